using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>
/// A token-embedding table with PyTorch's <c>padding_idx</c> semantics: looking up the padding id returns its row, but
/// lookups of it send no gradient to that row. Parameter: <c>weight</c> (vocab, emb).
/// </summary>
/// <remarks>
/// Written instead of using TorchSharp's <c>nn.Embedding</c> because that native module hands out a new wrapper
/// object (owned by the current dispose scope) on every <c>.weight</c> read, which makes tying the decoder to the very
/// same <see cref="Parameter"/> object and listing it once in a layer group fragile. The gradient is the same: an
/// index-select's backward scatters rows into the table exactly like the embedding backward.
/// </remarks>
public sealed class TokenEmbedding : nn.Module<Tensor, Tensor>, IComputePrecisionLayer
{
#pragma warning disable IDE1006 // PyTorch naming, on purpose: the field name is the state-dict key
    Parameter weight;
#pragma warning restore IDE1006

    /// <summary>Creates a (vocab, emb) table, uniform in ±<paramref name="initRange"/> (fastai's AWD-LSTM uses 0.1).</summary>
    public TokenEmbedding(long vocabSize, long embeddingSize, long? paddingId, double initRange = 0.1, string name = nameof(TokenEmbedding))
        : base(name)
    {
        if (vocabSize <= 0) throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, "Vocabulary size must be positive.");
        if (embeddingSize <= 0) throw new ArgumentOutOfRangeException(nameof(embeddingSize), embeddingSize, "Embedding size must be positive.");
        if (paddingId is { } p && (p < 0 || p >= vocabSize))
            throw new ArgumentOutOfRangeException(nameof(paddingId), paddingId, $"Padding id must be in [0, {vocabSize}).");
        VocabSize = vocabSize;
        EmbeddingSize = embeddingSize;
        PaddingId = paddingId;
        using (no_grad())
            weight = new Parameter(empty(vocabSize, embeddingSize).uniform_(-initRange, initRange));
        weight.DetachFromDisposeScope();
        RegisterComponents();
    }

    /// <summary>Rows of the table.</summary>
    public long VocabSize { get; }

    /// <summary>Width of each row.</summary>
    public long EmbeddingSize { get; }

    /// <summary>The row that lookups never train (null: none).</summary>
    public long? PaddingId { get; }

    /// <summary>The (vocab, emb) table.</summary>
    public Parameter Weight => weight;

    /// <inheritdoc />
    /// <remarks>With bf16 the looked-up rows are cast (not the table: only batch·seq rows are needed); the cast is
    /// differentiable, so the table's gradient arrives in float32.</remarks>
    public ComputePrecision Precision { get; set; }

    /// <summary>Looks up <paramref name="tokens"/> (batch, seq) int64; returns (batch, seq, emb) in
    /// <see cref="Precision"/>'s type.</summary>
    public override Tensor forward(Tensor tokens)
    {
        using var flat = tokens.reshape(-1);                 // (batch*seq)
        using var rows = weight.index_select(0, flat);       // (batch*seq, emb), float32
        using var cast = rows.CastTo(Precision);
        if (PaddingId is not { } pad) return cast.reshape(tokens.shape[0], tokens.shape[1], EmbeddingSize);
        // Same values at padding positions, but taken from a detached view so no gradient reaches the padding row.
        using var isPad = flat.eq(pad).unsqueeze(1);         // (batch*seq, 1)
        using var frozen = cast.detach();
        using var mixed = where(isPad, frozen, cast);
        return mixed.reshape(tokens.shape[0], tokens.shape[1], EmbeddingSize);
    }
}
