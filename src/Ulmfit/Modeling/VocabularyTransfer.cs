using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>How a vocabulary transfer went: tokens found in the old vocabulary, and tokens given the mean row.</summary>
public sealed record VocabularyTransferReport(int KeptTokens, int NewTokens);

/// <summary>
/// Moves a pretrained language model onto a new vocabulary (fastai's <c>match_embeds</c>): a token the old
/// vocabulary knows keeps its embedding row and decoder-bias entry; a new token gets the mean of all old rows and the
/// mean old bias. Every other tensor is copied unchanged. If a token occurs more than once in the old vocabulary
/// (fastai pads vocabularies with repeated <c>xxfake</c>), its first occurrence is used.
/// </summary>
public static class VocabularyTransfer
{
    /// <summary>
    /// The new vocabulary's embedding rows (new, emb) and decoder bias (new), built from the old ones
    /// (<paramref name="oldEmbedding"/> (old, emb), <paramref name="oldDecoderBias"/> (old) or null). New tensors,
    /// detached, owned by the caller.
    /// </summary>
    public static (Tensor Embedding, Tensor? DecoderBias, VocabularyTransferReport Report) MatchRows(
        IReadOnlyList<string> oldItos, IReadOnlyList<string> newItos, Tensor oldEmbedding, Tensor? oldDecoderBias)
    {
        ArgumentNullException.ThrowIfNull(oldItos);
        ArgumentNullException.ThrowIfNull(newItos);
        ArgumentNullException.ThrowIfNull(oldEmbedding);
        if (oldEmbedding.dim() != 2 || oldEmbedding.shape[0] != oldItos.Count)
            throw new ArgumentException($"The old embedding must be ({oldItos.Count}, emb) to match the old vocabulary, got [{string.Join(", ", oldEmbedding.shape)}].");
        if (oldDecoderBias is not null && (oldDecoderBias.dim() != 1 || oldDecoderBias.shape[0] != oldItos.Count))
            throw new ArgumentException($"The old decoder bias must be ({oldItos.Count}) to match the old vocabulary, got [{string.Join(", ", oldDecoderBias.shape)}].");
        if (oldItos.Count == 0) throw new ArgumentException("The old vocabulary is empty.");

        var oldIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < oldItos.Count; i++) oldIndex.TryAdd(oldItos[i], i);

        // Row oldCount of the extended source is the mean row; unknown tokens point at it.
        int oldCount = oldItos.Count, kept = 0;
        var source = new long[newItos.Count];
        for (int i = 0; i < newItos.Count; i++)
        {
            if (oldIndex.TryGetValue(newItos[i], out int j)) { source[i] = j; kept++; }
            else source[i] = oldCount;
        }

        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var index = tensor(source, device: oldEmbedding.device);
        var embeddingMean = oldEmbedding.mean([0], keepdim: true);                  // (1, emb)
        var extended = cat([oldEmbedding.detach(), embeddingMean], 0);             // (old+1, emb)
        var newEmbedding = extended.index_select(0, index).MoveToOuterDisposeScope();  // (new, emb)
        Tensor? newBias = null;
        if (oldDecoderBias is not null)
        {
            var biasMean = oldDecoderBias.mean([0], keepdim: true);                // (1)
            newBias = cat([oldDecoderBias.detach(), biasMean], 0).index_select(0, index).MoveToOuterDisposeScope();
        }
        return (newEmbedding, newBias, new VocabularyTransferReport(kept, newItos.Count - kept));
    }

    /// <summary>
    /// Loads <paramref name="oldStateDict"/> (an <see cref="AwdLstmLanguageModel"/> state dict over
    /// <paramref name="oldItos"/>) into <paramref name="newModel"/> (over <paramref name="newItos"/>), remapping the
    /// vocabulary rows. Throws <see cref="InvalidDataException"/> naming the key when a tensor is missing or its shape
    /// differs from the new model's (e.g. a different hidden size).
    /// </summary>
    public static VocabularyTransferReport Apply(IReadOnlyList<string> oldItos, IReadOnlyList<string> newItos,
        IReadOnlyDictionary<string, Tensor> oldStateDict, AwdLstmLanguageModel newModel)
    {
        ArgumentNullException.ThrowIfNull(oldStateDict);
        ArgumentNullException.ThrowIfNull(newModel);
        if (newItos.Count != newModel.VocabSize)
            throw new ArgumentException($"The new vocabulary has {newItos.Count} tokens but the new model scores {newModel.VocabSize}.");
        if (!oldStateDict.TryGetValue(AwdLstmLanguageModel.EmbeddingKey, out var oldEmbedding))
            throw new InvalidDataException($"The pretrained weights have no '{AwdLstmLanguageModel.EmbeddingKey}'.");
        oldStateDict.TryGetValue(AwdLstmLanguageModel.DecoderBiasKey, out var oldBias);

        var (embedding, bias, report) = MatchRows(oldItos, newItos, oldEmbedding, oldBias);
        using (embedding)
        using (bias)
        using (no_grad())
        {
            foreach (var (key, target) in newModel.state_dict())
            {
                switch (key)
                {
                    case AwdLstmLanguageModel.EmbeddingKey:
                        CopyChecked(key, embedding, target);
                        break;
                    case AwdLstmLanguageModel.DecoderBiasKey:
                        if (bias is not null) CopyChecked(key, bias, target);
                        break;
                    default:
                        if (!oldStateDict.TryGetValue(key, out var source))
                            throw new InvalidDataException($"The pretrained weights have no '{key}'.");
                        CopyChecked(key, source, target);
                        break;
                }
            }
        }
        return report;
    }

    /// <summary>Transfers <paramref name="oldModel"/> (over <paramref name="oldItos"/>) into <paramref name="newModel"/>.</summary>
    public static VocabularyTransferReport Apply(IReadOnlyList<string> oldItos, IReadOnlyList<string> newItos,
        AwdLstmLanguageModel oldModel, AwdLstmLanguageModel newModel)
    {
        ArgumentNullException.ThrowIfNull(oldModel);
        if (oldItos.Count != oldModel.VocabSize)
            throw new ArgumentException($"The old vocabulary has {oldItos.Count} tokens but the old model scores {oldModel.VocabSize}.");
        return Apply(oldItos, newItos, oldModel.state_dict(), newModel);
    }

    static void CopyChecked(string key, Tensor source, Tensor target)
    {
        if (!source.shape.SequenceEqual(target.shape))
            throw new InvalidDataException(
                $"'{key}' has shape [{string.Join(", ", source.shape)}] in the pretrained weights but [{string.Join(", ", target.shape)}] in the new model.");
        target.copy_(source);
    }
}
