using TorchSharp;
using Ulmfit.Data;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Training;

/// <summary>Measures a language model on held-out documents: loss, perplexity and next-token accuracy.</summary>
public static class LanguageModelEvaluator
{
    /// <summary>
    /// Runs <paramref name="model"/> over <paramref name="documents"/> in their given order with fixed windows of
    /// <c>batching.Bptt</c> (eval mode, no gradients, recurrent state reset first and after), and averages over every
    /// predicted token. The batch size is reduced when the text is too short to fill <c>batching.BatchSize</c> rows.
    /// The model's train/eval mode is restored afterwards. <paramref name="maxTokens"/> caps the tokens read: the first
    /// ones in document order, so every validation of a run reads the same text.
    /// </summary>
    public static ValidationResult Evaluate(ILanguageModel model, ITokenDocuments documents, LanguageModelBatcherOptions batching,
        CancellationToken cancellationToken = default, long? maxTokens = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentNullException.ThrowIfNull(batching);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens ?? 2, 2, nameof(maxTokens));
        var options = batching.ForValidation() with { MaxTokens = maxTokens };
        int rows = (int)Math.Clamp(Math.Min(documents.TokenCount, maxTokens ?? long.MaxValue) / 2, 1, options.BatchSize);
        var batcher = new LanguageModelBatcher(documents, options with { BatchSize = rows });

        bool wasTraining = model.Module.training;
        model.Module.eval();
        model.ResetState();
        double lossSum = 0;
        long correct = 0, tokens = 0;
        try
        {
            using var noGrad = no_grad();
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var batch = batcher.NextBatch();
                if (batch is null) break;
                var output = model.Forward(batch.Input);
                // Sum (not mean) so windows of different lengths weigh by their token counts.
                long vocab = output.Logits.shape[^1];
                var flatLogits = output.Logits.reshape(-1, vocab); // (batch*seq, vocab)
                var flatTargets = batch.Target.reshape(-1);        // (batch*seq)
                lossSum += nn.functional.cross_entropy(flatLogits, flatTargets, reduction: nn.Reduction.Sum).item<float>();
                correct += flatLogits.argmax(1).eq(flatTargets).sum().item<long>();
                tokens += batch.TokenCount;
            }
        }
        finally
        {
            model.ResetState();
            model.Module.train(wasTraining);
        }
        double loss = lossSum / tokens;
        return new ValidationResult(loss, Math.Exp(loss), (double)correct / tokens, tokens);
    }
}
