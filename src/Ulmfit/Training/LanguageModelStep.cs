using Ulmfit.Modeling;

namespace Ulmfit.Training;

/// <summary>One optimisation step of a language model: forward, cross-entropy + AR + TAR, backward, clip, AdamW
/// update, gradients dropped. Shared by the trainer and the learning-rate finder.</summary>
internal sealed class LanguageModelStep(ILanguageModel model, LayerGroupOptimizer optimizer, LanguageModelLoss loss, double? gradientClip)
{
    /// <summary>Trains on <paramref name="batch"/> with <paramref name="values"/>; returns the batch's cross-entropy
    /// (without the penalties). Call inside a dispose scope: every intermediate tensor lands in it.</summary>
    public double Run(LanguageModelBatch batch, ScheduleValues values)
    {
        optimizer.Apply(values);
        var output = model.Forward(batch.Input);                        // logits (batch, seq, vocab)
        var crossEntropy = LanguageModelLoss.CrossEntropy(output.Logits, batch.Target);
        var total = crossEntropy + loss.Regularisation(output);
        total.backward();
        if (gradientClip is double clip) optimizer.ClipGradients(clip);
        optimizer.Step();
        optimizer.ClearGradients();
        return crossEntropy.item<float>();
    }
}
