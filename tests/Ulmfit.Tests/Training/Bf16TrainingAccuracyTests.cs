using Xunit.Abstractions;
using Ulmfit.Data;
using Ulmfit.Engine;
using Ulmfit.Modeling;
using Ulmfit.Training;

namespace Ulmfit.Tests.Training;

/// <summary>
/// The accuracy proof for bf16 training: the same tiny AWD-LSTM, seed, data and recipe trained in fp32 and in bf16
/// (fp32 master weights) end at nearly the same validation loss.
/// </summary>
[Collection(TorchRandomCollection.Name)]
public sealed class Bf16TrainingAccuracyTests
{
    readonly ITestOutputHelper _output;

    public Bf16TrainingAccuracyTests(ITestOutputHelper output)
    {
        _output = output;
        TorchRuntime.Initialise(2);
    }

    static readonly InMemoryTokenDocuments Train = TinyCorpus.Counting(documents: 64, length: 26, seed: 11);
    static readonly InMemoryTokenDocuments Valid = TinyCorpus.Counting(documents: 12, length: 26, seed: 12);

    /// <summary>Trains a fresh model (same seed every time) for one epoch of 41 steps; returns the per-epoch results.</summary>
    static async Task<IReadOnlyList<EpochResult>> TrainIn(ComputePrecision precision)
    {
        TorchSharp.torch.manual_seed(3);
        using var model = new AwdLstmLanguageModel(new AwdLstmConfig(TinyCorpus.CountingVocab) { EmbeddingSize = 32, HiddenSize = 64, Layers = 3, DropMult = 0.5 })
            .SetComputePrecision(precision);
        var options = new LanguageModelTrainerOptions
        {
            Epochs = 1,
            Batching = new LanguageModelBatcherOptions { BatchSize = 4, Bptt = 10, Seed = 5 },
            Schedule = total => new OneCycleSchedule(total, 3e-2, Momentums: MomentumCycle.Text),
            GroupLearningRateFactor = 1,
            TorchSeed = 17,
        };
        var result = await new LanguageModelTrainer(model, Train, Valid, options).TrainAsync();
        Assert.Equal(precision, model.GetComputePrecision());
        Assert.All(model.parameters(), p => Assert.Equal(TorchSharp.torch.ScalarType.Float32, p.dtype));
        return result.Epochs;
    }

    /// <summary>
    /// Tolerance 3% relative: bf16 rounds every product to 8 significant bits (about 0.4% per operation), and over a run
    /// the rounding changes dropout-free paths only slightly but compounds through 41 AdamW updates; a broken cast
    /// (no gradient through it, bf16 master weights losing small updates, bf16 loss reduction) shows as a far larger
    /// gap — the model then stays near the uniform loss ln 19 ≈ 2.94 while fp32 drops well below it.
    /// </summary>
    [Fact]
    public async Task Bf16_training_ends_within_3_percent_of_the_fp32_validation_loss()
    {
        var fp32 = await TrainIn(ComputePrecision.Fp32);
        var bf16 = await TrainIn(ComputePrecision.BFloat16);
        double reference = fp32[^1].Validation!.Loss, loss = bf16[^1].Validation!.Loss;
        double relative = Math.Abs(loss - reference) / reference;
        _output.WriteLine($"steps {fp32.Sum(e => e.Steps)}: valid loss fp32 {reference:F4}, bf16 {loss:F4} ({relative:P2} apart); " +
                          $"train loss fp32 {fp32[^1].TrainLoss:F4}, bf16 {bf16[^1].TrainLoss:F4}");
        Assert.True(fp32.Sum(e => e.Steps) >= 40, $"only {fp32.Sum(e => e.Steps)} steps");
        Assert.True(reference < 0.8 * Math.Log(TinyCorpus.CountingVocab), $"fp32 did not learn: valid loss {reference:F4}");
        Assert.True(relative <= 0.03, $"bf16 valid loss {loss:F4} vs fp32 {reference:F4}: {relative:P2} apart");
    }
}
