using System.Diagnostics;
using Ulmfit.Training;
using static TorchSharp.torch;

namespace Ulmfit.Classification;

/// <summary>
/// Speed of a classifier on random documents of one length (the shapes of the shared PyTorch peer benchmark):
/// training steps (BPT3C forward, cross-entropy, backward, AdamW update) or inference (eval mode, no gradients).
/// </summary>
/// <param name="DocumentsPerSecond">Batch size / median step time.</param>
/// <param name="MedianSecondsPerStep">Median wall time of a timed step.</param>
/// <param name="StepSeconds">Every timed step's wall time, in order.</param>
public sealed record ClassifierThroughput(double DocumentsPerSecond, double MedianSecondsPerStep, IReadOnlyList<double> StepSeconds)
{
    /// <summary>Times <paramref name="timedSteps"/> training steps after <paramref name="warmupSteps"/> untimed ones, on
    /// (batch, length) token ids uniform over [2, vocab) (never unknown or padding) and random labels, every
    /// parameter training, each step in its own dispose scope. Changes the classifier's weights.</summary>
    public static ClassifierThroughput MeasureTraining(TextClassifier classifier, int batchSize, int sequenceLength,
        int warmupSteps = 1, int timedSteps = 3, long seed = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 2); // batch norm cannot train on one document
        using var optimizer = new LayerGroupOptimizer(classifier.LayerGroups, AdamWSettings.Ulmfit);
        new LayerGroupFreezer(classifier.LayerGroups).UnfreezeAll();
        classifier.train();
        return Measure(classifier, batchSize, sequenceLength, warmupSteps, timedSteps, seed, cancellationToken, (tokens, lengths, labels) =>
        {
            optimizer.Apply(new ScheduleValues(1e-3, null));
            var logits = classifier.Forward(tokens, lengths);                 // (batch, classes)
            var loss = nn.functional.cross_entropy(logits, labels);
            loss.backward();
            optimizer.Step();
            optimizer.ClearGradients();
            loss.item<float>();
        });
    }

    /// <summary>Times <paramref name="timedSteps"/> inference batches (eval mode, no gradients) after
    /// <paramref name="warmupSteps"/> untimed ones, on random (batch, length) token ids; restores the training flag.</summary>
    public static ClassifierThroughput MeasureInference(TextClassifier classifier, int batchSize, int sequenceLength,
        int warmupSteps = 1, int timedSteps = 3, long seed = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        bool wasTraining = classifier.training;
        classifier.eval();
        try
        {
            using var _ = no_grad();
            return Measure(classifier, batchSize, sequenceLength, warmupSteps, timedSteps, seed, cancellationToken, (tokens, lengths, _) =>
            {
                using var probabilities = classifier.Probabilities(classifier.Forward(tokens, lengths));
                probabilities.sum().item<float>();
            });
        }
        finally
        {
            classifier.train(wasTraining);
        }
    }

    static ClassifierThroughput Measure(TextClassifier classifier, int batchSize, int sequenceLength, int warmupSteps, int timedSteps,
        long seed, CancellationToken cancellationToken, Action<Tensor, long[], Tensor> step)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sequenceLength);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timedSteps);
        int vocab = classifier.Config.Encoder.VocabSize;
        if (vocab <= 2) throw new ArgumentException("the vocabulary must have ids beyond unknown and padding.", nameof(classifier));
        using var generator = new Generator((ulong)seed);
        var lengths = Enumerable.Repeat((long)sequenceLength, batchSize).ToArray();
        var times = new List<double>(timedSteps);
        for (int s = 0; s < warmupSteps + timedSteps; s++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            // Inputs drawn outside the timed region.
            var tokens = randint(2, vocab, [batchSize, sequenceLength], dtype: ScalarType.Int64, generator: generator);
            var labels = randint(0, classifier.Config.ClassCount, [batchSize], dtype: ScalarType.Int64, generator: generator);
            var clock = Stopwatch.StartNew();
            step(tokens, lengths, labels);
            if (s >= warmupSteps) times.Add(clock.Elapsed.TotalSeconds);
        }
        var sorted = times.Order().ToArray();
        double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        return new ClassifierThroughput(batchSize / median, median, times);
    }
}
