using System.Globalization;
using System.Text.Json.Serialization;
using Ulmfit.Modeling;

namespace Ulmfit.IO;

/// <summary>
/// The <c>architecture</c> section of a model manifest: everything needed to rebuild the network before its weights
/// are loaded, and to check the weights' shapes against it. JSON names in snake_case (<c>vocab_size</c>, …).
/// </summary>
public sealed record ArchitectureSpec
{
    /// <summary>The AWD-LSTM's name (the default).</summary>
    public const string AwdLstm = EncoderArchitectureNames.AwdLstm;

    /// <summary>The QRNN's name.</summary>
    public const string Qrnn = EncoderArchitectureNames.Qrnn;

    /// <summary>Architecture name: <c>"awd-lstm"</c> or <c>"qrnn"</c> (<see cref="EncoderArchitectureNames"/>); any
    /// other name is refused when the manifest is read.</summary>
    public string Name { get; init; } = AwdLstm;

    /// <summary>The encoder architecture <see cref="Name"/> names.</summary>
    /// <exception cref="InvalidOperationException">The name is not a known one (a validated manifest never has such).</exception>
    [JsonIgnore]
    public EncoderArchitecture Architecture => EncoderArchitectureNames.TryParse(Name, out var a) ? a
        : throw new InvalidOperationException($"architecture.name '{Name}' is not known (this version reads {string.Join(", ", EncoderArchitectureNames.All.Select(n => $"'{n}'"))})");

    /// <summary>Rows of the embedding matrix; equals the vocabulary size (fastai sizes need not be multiples of 8).</summary>
    public required int VocabSize { get; init; }

    /// <summary>Embedding width, also the last recurrent layer's hidden size (tied decoder).</summary>
    public required int EmbeddingSize { get; init; }

    /// <summary>Hidden size of every recurrent layer but the last.</summary>
    public required int HiddenSize { get; init; }

    /// <summary>Number of stacked recurrent layers.</summary>
    public required int Layers { get; init; }

    /// <summary>Padding token id.</summary>
    public required int PadId { get; init; }

    /// <summary>Base dropout probabilities (before <see cref="DropMult"/>).</summary>
    public required DropoutSpec Dropouts { get; init; }

    /// <summary>Multiplier applied to every dropout probability.</summary>
    public required double DropMult { get; init; }

    /// <summary>Whether the network reads text right to left (ULMFiT's backwards LM, ensembled with the forward one).</summary>
    [JsonRequired]
    public bool Backwards { get; init; }

    /// <summary>The classification head; present exactly when the package is a classifier.</summary>
    public ClassifierHeadSpec? Head { get; init; }

    /// <summary>The spec of an engine configuration.</summary>
    public static ArchitectureSpec From(AwdLstmConfig config, bool backwards = false, ClassifierHeadSpec? head = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        AwdLstmDropouts d = config.Dropouts;
        return new ArchitectureSpec
        {
            Name = config.Architecture.Name(),
            VocabSize = config.VocabSize,
            EmbeddingSize = config.EmbeddingSize,
            HiddenSize = config.HiddenSize,
            Layers = config.Layers,
            PadId = config.PadId,
            Dropouts = new DropoutSpec(d.Embedding, d.Input, d.Hidden, d.Weight, d.Output),
            DropMult = config.DropMult,
            Backwards = backwards,
            Head = head,
        };
    }

    /// <summary>The engine configuration to build the network with (the stored dropouts, or <paramref name="dropouts"/>
    /// and <paramref name="dropMult"/> when the next stage trains with others, as fine-tuning a classifier does).</summary>
    public AwdLstmConfig ToConfig(AwdLstmDropouts? dropouts = null, double? dropMult = null) => new(VocabSize)
    {
        Architecture = Architecture,
        EmbeddingSize = EmbeddingSize,
        HiddenSize = HiddenSize,
        Layers = Layers,
        PadId = PadId,
        Dropouts = dropouts ?? new AwdLstmDropouts(Dropouts.Embedding, Dropouts.Input, Dropouts.Hidden, Dropouts.Weight, Dropouts.Output),
        DropMult = dropMult ?? DropMult,
    };

    /// <summary>Input width of LSTM layer <paramref name="layer"/>.</summary>
    public int LayerInputSize(int layer) => layer == 0 ? EmbeddingSize : HiddenSize;

    /// <summary>Hidden (output) width of LSTM layer <paramref name="layer"/>.</summary>
    public int LayerOutputSize(int layer) => layer == Layers - 1 ? EmbeddingSize : HiddenSize;

    internal IEnumerable<string> Problems()
    {
        if (!EncoderArchitectureNames.TryParse(Name, out _))
            yield return $"architecture.name '{Name}' is not known (this version reads {string.Join(", ", EncoderArchitectureNames.All.Select(n => $"'{n}'"))})";
        foreach (string p in Range("vocab_size", VocabSize, 9, 10_000_000)) yield return p;
        foreach (string p in Range("embedding_size", EmbeddingSize, 1, 65_536)) yield return p;
        foreach (string p in Range("hidden_size", HiddenSize, 1, 65_536)) yield return p;
        foreach (string p in Range("layers", Layers, 1, 32)) yield return p;
        if (PadId < 0 || PadId >= VocabSize) yield return $"architecture.pad_id {PadId} is not a token id in [0, {VocabSize})";
        if (!double.IsFinite(DropMult) || DropMult < 0) yield return $"architecture.drop_mult must be a finite number >= 0, got {Show(DropMult)}";
        else if (Dropouts is not null)
            foreach (string p in Dropouts.Problems(DropMult)) yield return p;
        if (Head is not null)
            foreach (string p in Head.Problems()) yield return p;
    }

    static IEnumerable<string> Range(string name, int value, int min, int max)
    {
        if (value < min || value > max) yield return $"architecture.{name} must be in [{min}, {max}], got {value}";
    }

    internal static string Show(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>The five AWD-LSTM dropout probabilities (see the model's documentation for what each drops).</summary>
public sealed record DropoutSpec(double Embedding, double Input, double Hidden, double Weight, double Output)
{
    /// <summary>fastai's language-model values (<c>awd_lstm_lm_config</c>).</summary>
    public static DropoutSpec LanguageModel { get; } = new(0.02, 0.25, 0.15, 0.2, 0.1);

    /// <summary>fastai's classifier values (<c>awd_lstm_clas_config</c>).</summary>
    public static DropoutSpec Classifier { get; } = new(0.05, 0.4, 0.3, 0.5, 0.4);

    internal IEnumerable<string> Problems(double dropMult)
    {
        foreach ((string name, double p) in new[] { ("embedding", Embedding), ("input", Input), ("hidden", Hidden), ("weight", Weight), ("output", Output) })
        {
            // After scaling, p = 1 would divide by zero in the 1/(1-p) rescaling.
            if (!double.IsFinite(p) || p < 0 || p * dropMult >= 1)
                yield return $"architecture.dropouts.{name} must be in [0, 1) after drop_mult scaling, got {ArchitectureSpec.Show(p)} × {ArchitectureSpec.Show(dropMult)}";
        }
    }
}

/// <summary>
/// The classifier head (fastai's <c>PoolingLinearClassifier</c>): concat pooling of the last encoder layer
/// (last, max, mean → 3 × embedding), then linear blocks of <see cref="HiddenSizes"/> and a final linear layer to the
/// labels; <see cref="Dropouts"/> has one probability per linear layer (so one more than the hidden sizes).
/// Weights live under the <c>head.</c> prefix; their shapes are checked by the module that loads them.
/// </summary>
public sealed record ClassifierHeadSpec
{
    /// <summary>Widths of the hidden linear blocks (fastai's <c>lin_ftrs</c>, default [50]).</summary>
    public required IReadOnlyList<int> HiddenSizes { get; init; }

    /// <summary>Dropout before each linear layer (fastai's <c>ps</c>), <c>HiddenSizes.Count + 1</c> values.</summary>
    public required IReadOnlyList<double> Dropouts { get; init; }

    internal IEnumerable<string> Problems()
    {
        if (HiddenSizes is null || Dropouts is null) yield break; // reported as missing fields by the parser
        if (HiddenSizes.Count > 16) yield return $"architecture.head.hidden_sizes has {HiddenSizes.Count} entries, at most 16 allowed";
        for (int i = 0; i < HiddenSizes.Count; i++)
            if (HiddenSizes[i] < 1 || HiddenSizes[i] > 65_536) yield return $"architecture.head.hidden_sizes[{i}] must be in [1, 65536], got {HiddenSizes[i]}";
        if (Dropouts.Count != HiddenSizes.Count + 1)
            yield return $"architecture.head.dropouts needs {HiddenSizes.Count + 1} values (one per linear layer), got {Dropouts.Count}";
        for (int i = 0; i < Dropouts.Count; i++)
            if (!double.IsFinite(Dropouts[i]) || Dropouts[i] < 0 || Dropouts[i] >= 1)
                yield return $"architecture.head.dropouts[{i}] must be in [0, 1), got {ArchitectureSpec.Show(Dropouts[i])}";
    }
}
