using static TorchSharp.torch;

namespace Ulmfit.Classification;

/// <summary>
/// Documents ready for the classifier: token ids padded at the end to the longest document, with each row's real
/// length and the row's index in the source collection.
/// </summary>
/// <param name="Tokens">(batch, seq) int64, padding id after each document's last token; seq = max(Lengths).</param>
/// <param name="Lengths">Real tokens per row (each at least 1).</param>
/// <param name="DocumentIndices">Which source document each row holds.</param>
public sealed record ClassifierBatch(Tensor Tokens, long[] Lengths, int[] DocumentIndices) : IDisposable
{
    /// <summary>Rows in the batch.</summary>
    public int Count => DocumentIndices.Length;

    /// <summary>Real (non-padding) tokens in the batch.</summary>
    public long TokenCount => Lengths.Sum();

    /// <summary>Disposes <see cref="Tokens"/>.</summary>
    public void Dispose() => Tokens.Dispose();
}
