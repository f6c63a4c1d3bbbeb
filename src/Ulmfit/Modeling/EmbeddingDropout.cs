using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>
/// Embedding (word-level) dropout: drops whole rows of the embedding matrix, so a dropped word is the zero vector at
/// every position of the batch, and scales kept rows by 1/(1-p). Identity in eval mode.
/// </summary>
/// <remarks>
/// fastai multiplies the whole (vocab, emb) matrix by a (vocab, 1) mask and then looks tokens up. Looking tokens up
/// first and multiplying each vector by its word's mask entry gives the same numbers (one multiplication per element
/// either way) and the same gradients, without materialising a masked copy of the matrix on every batch.
/// </remarks>
public sealed class EmbeddingDropout : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Creates the module for a vocabulary of <paramref name="vocabSize"/> words.</summary>
    public EmbeddingDropout(long vocabSize, double probability, string name = nameof(EmbeddingDropout)) : base(name)
    {
        if (vocabSize <= 0) throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, "Vocabulary size must be positive.");
        if (!double.IsFinite(probability) || probability < 0 || probability >= 1)
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "Dropout probability must be in [0, 1).");
        VocabSize = vocabSize;
        Probability = probability;
    }

    /// <summary>Rows of the embedding matrix the mask covers.</summary>
    public long VocabSize { get; }

    /// <summary>Probability of dropping a word (a row).</summary>
    public double Probability { get; }

    /// <summary>
    /// Applies the row mask to already looked-up vectors: <paramref name="tokens"/> (batch, seq) int64 and
    /// <paramref name="embedded"/> = embedding(tokens), (batch, seq, emb). Returns (batch, seq, emb).
    /// </summary>
    public override Tensor forward(Tensor tokens, Tensor embedded)
    {
        if (!training || Probability == 0) return embedded;
        using var rowMask = SampleRowMask(VocabSize, Probability, embedded.dtype, embedded.device); // (vocab, 1)
        using var flat = tokens.reshape(-1);                                                           // (batch*seq)
        using var perToken = rowMask.index_select(0, flat).reshape(tokens.shape[0], tokens.shape[1], 1); // (batch, seq, 1)
        return embedded * perToken;
    }

    /// <summary>The scaled keep-mask over words: values 0 or 1/(1-p), shape (vocab, 1).</summary>
    internal static Tensor SampleRowMask(long vocabSize, double probability, ScalarType dtype, Device device)
    {
        using var _ = no_grad();
        return empty(vocabSize, 1, dtype: dtype, device: device).bernoulli_(1 - probability).div_(1 - probability);
    }
}
