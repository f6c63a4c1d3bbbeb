using static TorchSharp.torch;

namespace Ulmfit.Classification;

/// <summary>
/// ULMFiT's concat pooling (paper, section 3.3): a document is represented by [h_T, maxpool(H), meanpool(H)] of the
/// last LSTM layer's outputs H, taken over the document's own tokens only, so padding never reaches the features.
/// </summary>
/// <remarks>
/// Batches are padded at the END (see <see cref="ClassifierBatcher"/>): a causal LSTM's output at a real position
/// then depends only on that document's tokens, and h_T is the output at position length − 1. With
/// <c>maxLength</c>, each document pools its own last <c>maxLength</c> tokens, positions
/// [max(0, length − maxLength), length), whatever the other documents in the batch.
/// </remarks>
public static class ConcatPooling
{
    /// <summary>
    /// Pools <paramref name="outputs"/> (batch, kept, emb), the last layer's outputs for positions
    /// [<paramref name="start"/>, start + kept) of every row, into (batch, 3·emb) = [last, max, mean].
    /// Row b pools positions [max(0, lengths[b] − maxLength), lengths[b]), which must lie inside the kept range.
    /// </summary>
    public static Tensor Pool(Tensor outputs, long start, IReadOnlyList<long> lengths, long maxLength)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(lengths);
        if (outputs.dim() != 3 || outputs.shape[0] != lengths.Count)
            throw new ArgumentException($"outputs must be (batch={lengths.Count}, kept, emb), got [{string.Join(", ", outputs.shape)}].", nameof(outputs));
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        long batch = outputs.shape[0], kept = outputs.shape[1], emb = outputs.shape[2];
        for (int b = 0; b < lengths.Count; b++)
        {
            long length = lengths[b], first = Math.Max(0, length - maxLength);
            if (length < 1 || first < start || length > start + kept)
                throw new ArgumentException($"row {b} (length {length}) pools positions [{first}, {length}), outside the kept range [{start}, {start + kept}).", nameof(lengths));
        }

        using var scope = NewDisposeScope();
        // Pooling of bf16 encoder outputs (ComputePrecision.BFloat16) runs in float32: the mean's sum and the counts
        // (bf16 holds integers exactly only up to 256) must not round, and the head's batch norm takes float32.
        if (outputs.dtype is ScalarType.BFloat16 or ScalarType.Float16) outputs = outputs.to(ScalarType.Float32);
        var device = outputs.device;
        var length1 = tensor(lengths.ToArray(), device: device).unsqueeze(1);               // (batch, 1)
        var position = arange(start, start + kept, dtype: ScalarType.Int64, device: device).unsqueeze(0); // (1, kept)
        var inWindow = position.lt(length1).logical_and(position.ge(length1 - maxLength));  // (batch, kept)
        var outside = inWindow.logical_not().unsqueeze(2);                                  // (batch, kept, 1)

        var maxPool = outputs.masked_fill(outside, double.NegativeInfinity).amax([1]);      // (batch, emb)
        var counts = inWindow.sum([1], keepdim: true).to_type(outputs.dtype);               // (batch, 1)
        var meanPool = outputs.masked_fill(outside, 0).sum([1]) / counts;                   // (batch, emb)
        var lastIndex = (length1 - 1 - start).unsqueeze(2).expand(batch, 1, emb);           // (batch, 1, emb)
        var last = outputs.gather(1, lastIndex).squeeze(1);                                 // (batch, emb)
        return cat([last, maxPool, meanPool], 1).MoveToOuterDisposeScope();                // (batch, 3·emb)
    }
}
