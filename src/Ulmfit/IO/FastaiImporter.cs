using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace Ulmfit.IO;

/// <summary>
/// Imports fastai's pretrained AWD-LSTM language models (<c>lstm_fwd.pth</c> + <c>itos_wt103.pkl</c>, or any fastai
/// LM saved the same way) without Python and without executing either file. Keys are mapped by name, never by
/// position:
/// <code>
/// fastai                                   ours
/// 0.encoder.weight            (V, E)    →  encoder.embedding.weight
/// 0.encoder_dp.emb.weight     (V, E)       must equal 0.encoder.weight; dropped
/// 0.rnns.{l}.weight_hh_l0_raw             →  encoder.rnns.{l}.weight_hh_l0_raw
/// 0.rnns.{l}.module.weight_ih_l0          →  encoder.rnns.{l}.weight_ih_l0
/// 0.rnns.{l}.module.bias_ih_l0            →  encoder.rnns.{l}.bias_ih_l0
/// 0.rnns.{l}.module.bias_hh_l0            →  encoder.rnns.{l}.bias_hh_l0
/// 0.rnns.{l}.module.weight_hh_l0          optional: the weight-dropped copy of the raw matrix; dropped
/// 1.decoder.weight            (V, E)       tied: must equal 0.encoder.weight; dropped
/// 1.decoder.bias              (V)       →  decoder.bias
/// </code>
/// Gate order is i, f, g, o in both, so rows copy as they are. The architecture (vocabulary, embedding and hidden
/// sizes, layer count) is read off the shapes, and every shape is checked against it. The vocabulary keeps fastai's
/// size (60,000 for WikiText-103, not a multiple of 8).
/// </summary>
public static partial class FastaiImporter
{
    [GeneratedRegex(@"^0\.rnns\.(?<layer>[0-9]{1,3})\.(?<rest>.+)$")]
    private static partial Regex RnnKey();

    const string Encoder = "0.encoder.weight";
    const string EncoderDuplicate = "0.encoder_dp.emb.weight";
    const string DecoderWeight = "1.decoder.weight";
    const string DecoderBias = "1.decoder.bias";

    /// <summary>
    /// Reads <paramref name="weightsPath"/> (a PyTorch state dict, zip or legacy format, bare or wrapped in
    /// <c>{'model': …}</c>) and <paramref name="vocabularyPath"/> (a pickled list of strings) and converts them.
    /// Throws <see cref="ModelFileException"/> for hostile, corrupt or non-matching files.
    /// </summary>
    public static ImportedLanguageModel Import(string weightsPath, string vocabularyPath, PickleLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(weightsPath);
        ArgumentNullException.ThrowIfNull(vocabularyPath);
        TorchStateDict source = TorchStateDictReader.Read(weightsPath, limits);
        IReadOnlyList<string> itos = RestrictedUnpickler.LoadStringList(vocabularyPath, limits);
        return Convert(source, itos, vocabularyPath);
    }

    /// <summary>Imports and writes a language-model package into <paramref name="outFolder"/>; returns its manifest.</summary>
    public static ModelManifest ImportToPackage(string weightsPath, string vocabularyPath, string outFolder)
    {
        using ImportedLanguageModel model = Import(weightsPath, vocabularyPath);
        return model.SaveAsPackage(outFolder);
    }

    internal static ImportedLanguageModel Convert(TorchStateDict source, IReadOnlyList<string> itos, string vocabularyPath)
    {
        string file = source.Source;
        ArchitectureSpec architecture = InferArchitecture(source, itos.Count, vocabularyPath, out List<string> ignored);
        FastaiVocabularyMapping mapping = FastaiVocabularyMapping.Create(itos, vocabularyPath);

        var names = new List<(string Ours, string Theirs)> { (AwdLstmWeightNames.Embedding, Encoder) };
        for (int l = 0; l < architecture.Layers; l++)
        {
            names.Add((AwdLstmWeightNames.InputWeight(l), $"0.rnns.{l}.module.weight_ih_l0"));
            names.Add((AwdLstmWeightNames.HiddenWeight(l), $"0.rnns.{l}.weight_hh_l0_raw"));
            names.Add((AwdLstmWeightNames.InputBias(l), $"0.rnns.{l}.module.bias_ih_l0"));
            names.Add((AwdLstmWeightNames.HiddenBias(l), $"0.rnns.{l}.module.bias_hh_l0"));
        }
        names.Add((AwdLstmWeightNames.DecoderBias, DecoderBias));

        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach ((string ours, string theirs) in names)
            {
                Tensor t = source.Tensors[theirs].ToTensor();
                state.Add(ours, t);
                try { SafetensorsReader.CheckFinite(t, theirs, file); }
                catch (ModelFileException e) { throw new ModelFileException(file, e.Problem, e); }
            }
            if (mapping.SourceRow is { } rows) Reorder(state, rows);
            ArchitectureSpec final = architecture with { VocabSize = mapping.Vocabulary.Count };
            return new ImportedLanguageModel(final, mapping.Vocabulary, state, source, vocabularyPath, ignored, mapping.Changes);
        }
        catch
        {
            foreach (Tensor t in state.Values) t.Dispose();
            throw;
        }
    }

    /// <summary>Reads the sizes off the shapes and checks every key against them.</summary>
    static ArchitectureSpec InferArchitecture(TorchStateDict source, int vocabularyCount, string vocabularyPath, out List<string> ignored)
    {
        string file = source.Source;
        IReadOnlyDictionary<string, TorchTensorRecord> t = source.Tensors;
        ignored = [];
        if (!t.TryGetValue(Encoder, out TorchTensorRecord? encoder))
            throw new ModelFileException(file, $"no '{Encoder}': not a fastai AWD-LSTM language model (keys: {WeightShapeCheck.List(source.Keys)})");
        if (encoder.Shape.Count != 2) throw new ModelFileException(file, $"'{Encoder}' should be (vocab, emb), got [{string.Join(", ", encoder.Shape)}]");
        long vocab = encoder.Shape[0], emb = encoder.Shape[1];

        var layers = new SortedSet<int>();
        var unexpected = new List<string>();
        foreach (string key in source.Keys)
        {
            if (RnnKey().Match(key) is { Success: true } m) layers.Add(int.Parse(m.Groups["layer"].Value, System.Globalization.CultureInfo.InvariantCulture));
            else if (key is not (Encoder or EncoderDuplicate or DecoderWeight or DecoderBias)) unexpected.Add(key);
        }
        if (unexpected.Count > 0)
            throw new ModelFileException(file, $"unexpected keys for a fastai AWD-LSTM language model (a QRNN or a classifier?): {WeightShapeCheck.List(unexpected)}");
        if (layers.Count == 0) throw new ModelFileException(file, "no '0.rnns.{l}.…' keys: the file has no LSTM layers");
        if (layers.Min != 0 || layers.Max != layers.Count - 1)
            throw new ModelFileException(file, $"LSTM layers must be numbered 0..n-1, found {string.Join(", ", layers)}");
        int n = layers.Count;
        TorchTensorRecord firstHidden = Require(source, "0.rnns.0.weight_hh_l0_raw");
        long hidden = n == 1 ? emb : firstHidden.Shape.Count == 2 ? firstHidden.Shape[1] : -1;
        if (vocab < 9 || vocab > 10_000_000 || emb < 1 || emb > 65_536 || hidden < 1 || hidden > 65_536)
            throw new ModelFileException(file, $"implausible sizes: vocab {vocab}, emb {emb}, hidden {hidden}");

        var architecture = new ArchitectureSpec
        {
            VocabSize = (int)vocab,
            EmbeddingSize = (int)emb,
            HiddenSize = (int)hidden,
            Layers = n,
            PadId = Text.SpecialTokens.PaddingId,
            Dropouts = DropoutSpec.LanguageModel,
            DropMult = 1.0,
        };
        var problems = new List<string>();
        void Expect(string key, params long[] shape)
        {
            if (!t.TryGetValue(key, out TorchTensorRecord? r)) problems.Add($"missing '{key}'");
            else if (!r.Shape.SequenceEqual(shape)) problems.Add($"'{key}' is [{string.Join(", ", r.Shape)}], expected [{string.Join(", ", shape)}]");
            else if (!r.DType.IsFloatingPoint()) problems.Add($"'{key}' is {r.DType.Name()}, expected floating point");
        }
        Expect(Encoder, vocab, emb);
        Expect(DecoderBias, vocab);
        for (int l = 0; l < n; l++)
        {
            long input = architecture.LayerInputSize(l), output = architecture.LayerOutputSize(l);
            Expect($"0.rnns.{l}.weight_hh_l0_raw", 4 * output, output);
            Expect($"0.rnns.{l}.module.weight_ih_l0", 4 * output, input);
            Expect($"0.rnns.{l}.module.bias_ih_l0", 4 * output);
            Expect($"0.rnns.{l}.module.bias_hh_l0", 4 * output);
            string dropped = $"0.rnns.{l}.module.weight_hh_l0";
            if (t.ContainsKey(dropped))
            {
                Expect(dropped, 4 * output, output);
                ignored.Add(dropped);
            }
            foreach (string key in source.Keys.Where(k => k.StartsWith($"0.rnns.{l}.", StringComparison.Ordinal)))
                if (!IsKnownLayerKey(key, l)) problems.Add($"unexpected '{key}'");
        }
        foreach (string alias in new[] { EncoderDuplicate, DecoderWeight })
        {
            if (!t.TryGetValue(alias, out TorchTensorRecord? copy)) continue;
            Expect(alias, vocab, emb);
            if (problems.Count == 0 && !SameValues(copy, encoder))
                problems.Add(alias == DecoderWeight
                    ? $"'{DecoderWeight}' differs from '{Encoder}': the decoder is not tied, which our AWD-LSTM requires"
                    : $"'{EncoderDuplicate}' differs from '{Encoder}' (they are one matrix in fastai; the file is inconsistent)");
            ignored.Add(alias);
        }
        if (problems.Count > 0) throw new ModelFileException(file, $"not a consistent fastai AWD-LSTM (vocab {vocab}, emb {emb}, hidden {hidden}, {n} layers): {WeightShapeCheck.List(problems)}");
        if (vocabularyCount != vocab)
            throw new ModelFileException(vocabularyPath, $"the vocabulary has {vocabularyCount} tokens but the weights have {vocab} rows: the files belong to different models");
        return architecture;
    }

    static bool IsKnownLayerKey(string key, int l) =>
        key == $"0.rnns.{l}.weight_hh_l0_raw" || key == $"0.rnns.{l}.module.weight_ih_l0" || key == $"0.rnns.{l}.module.bias_ih_l0"
        || key == $"0.rnns.{l}.module.bias_hh_l0" || key == $"0.rnns.{l}.module.weight_hh_l0";

    static TorchTensorRecord Require(TorchStateDict source, string key) =>
        source.Tensors.TryGetValue(key, out TorchTensorRecord? r) ? r : throw new ModelFileException(source.Source, $"missing '{key}'");

    static bool SameValues(TorchTensorRecord a, TorchTensorRecord b)
    {
        if (a.SharesStorageWith(b) && a.StorageOffset == b.StorageOffset && a.Strides.SequenceEqual(b.Strides)) return true;
        return a.ToFloatArray().AsSpan().SequenceEqual(b.ToFloatArray());
    }

    /// <summary>Permutes (and extends with mean rows) the vocabulary-indexed tensors to the new id order.</summary>
    static void Reorder(Dictionary<string, Tensor> state, int[] rows)
    {
        foreach (string key in new[] { AwdLstmWeightNames.Embedding, AwdLstmWeightNames.DecoderBias })
        {
            Tensor old = state[key];                                   // (V, E) or (V)
            long v = old.shape[0];
            Tensor reordered;
            using (NewDisposeScope())
            {
                using var mean = old.mean([0], keepdim: true);         // (1, E) or (1)
                using var extended = cat([old, mean], 0);              // row V is the mean
                using var index = tensor(rows.Select(r => r < 0 ? v : r).ToArray(), ScalarType.Int64);
                reordered = extended.index_select(0, index).contiguous().DetachFromDisposeScope();
            }
            old.Dispose();
            state[key] = reordered;
        }
    }
}
