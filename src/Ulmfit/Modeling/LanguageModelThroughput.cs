using System.Diagnostics;
using static TorchSharp.torch;

namespace Ulmfit.Modeling;

/// <summary>Training-speed measurement of a language model: forward, cross-entropy and backward on random tokens.</summary>
/// <param name="TokensPerSecond">Tokens (batch × bptt) processed per second, forward and backward, averaged over the timed steps.</param>
/// <param name="SecondsPerStep">Mean wall time of one timed step.</param>
/// <param name="TimedSteps">Steps timed (after the warm-up steps).</param>
public sealed record LanguageModelThroughput(double TokensPerSecond, double SecondsPerStep, int TimedSteps)
{
    /// <summary>
    /// Runs <paramref name="warmupSteps"/> untimed and then <paramref name="timedSteps"/> timed training steps (without
    /// an optimizer update, which is cheap next to the passes) on random (batch, bptt) tokens, each step in its own
    /// dispose scope, in training mode. Leaves the model in training mode with its state reset and gradients cleared.
    /// </summary>
    public static LanguageModelThroughput Measure(ILanguageModel model, int batchSize, int bptt, int warmupSteps = 1,
        int timedSteps = 3, long seed = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bptt);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timedSteps);
        var module = model.Module;
        module.train();
        model.ResetState();
        using var generator = new Generator((ulong)seed);
        var timer = new Stopwatch();
        for (int step = 0; step < warmupSteps + timedSteps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            // Tokens and next-token targets drawn up front, outside the timed region.
            var stream = randint(0, model.VocabSize, [batchSize, bptt + 1], dtype: ScalarType.Int64, generator: generator);
            var input = stream.narrow(1, 0, bptt);
            var target = stream.narrow(1, 1, bptt).reshape(-1);
            if (step == warmupSteps) timer.Start();
            var output = model.Forward(input);
            var loss = nn.functional.cross_entropy(output.Logits.reshape(-1, model.VocabSize), target);
            loss.backward();
            module.zero_grad();
        }
        timer.Stop();
        model.ResetState();
        double perStep = timer.Elapsed.TotalSeconds / timedSteps;
        return new LanguageModelThroughput(batchSize * (double)bptt / perStep, perStep, timedSteps);
    }
}
