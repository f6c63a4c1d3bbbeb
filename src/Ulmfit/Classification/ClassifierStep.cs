using Ulmfit.Training;

namespace Ulmfit.Classification;

/// <summary>One optimisation step of the classifier: forward (BPT3C), loss, backward, clip, AdamW update with the
/// schedule's values, gradients dropped.</summary>
internal sealed class ClassifierStep(TextClassifier classifier, LayerGroupOptimizer optimizer, ClassifierLoss loss,
    ClassificationDataset dataset, double? gradientClip)
{
    /// <summary>Trains on <paramref name="batch"/>; returns its loss. Call inside a dispose scope: every intermediate
    /// tensor (and the private graphs of the LSTM layers) lands in it and must stay alive until backward is done.</summary>
    public double Run(ClassifierBatch batch, ScheduleValues values)
    {
        optimizer.Apply(values);
        var logits = classifier.Forward(batch);                               // (batch, classes)
        var batchLoss = loss.Compute(logits, dataset, batch.DocumentIndices);
        batchLoss.backward();
        if (gradientClip is double clip) optimizer.ClipGradients(clip);
        optimizer.Step();
        optimizer.ClearGradients();
        return batchLoss.item<float>();
    }
}
