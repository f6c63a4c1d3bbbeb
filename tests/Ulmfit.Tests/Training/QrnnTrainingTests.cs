using Ulmfit.Data;
using Ulmfit.Engine;
using Ulmfit.Modeling;
using Ulmfit.Training;

namespace Ulmfit.Tests.Training;

/// <summary>The trainer and the learning-rate finder with MultiFiT's QRNN language model.</summary>
[Collection(TorchRandomCollection.Name)]
public sealed class QrnnTrainingTests : IDisposable
{
    readonly string _folder = Path.Combine(Path.GetTempPath(), $"ulmfit-qrnn-trainer-{Guid.NewGuid():N}");

    public QrnnTrainingTests() => TorchRuntime.Initialise(2);

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    static readonly InMemoryTokenDocuments Train = TinyCorpus.Counting(documents: 40, length: 25, seed: 1);
    static readonly InMemoryTokenDocuments Valid = TinyCorpus.Counting(documents: 8, length: 25, seed: 2);

    static AwdLstmLanguageModel NewModel(long seed)
    {
        TorchSharp.torch.manual_seed(seed);
        return new AwdLstmLanguageModel(new AwdLstmConfig(TinyCorpus.CountingVocab)
        {
            Architecture = EncoderArchitecture.Qrnn, EmbeddingSize = 8, HiddenSize = 16, Layers = 3, PadId = 1,
        });
    }

    static LanguageModelTrainerOptions Options(string? checkpoints = null) => new()
    {
        Epochs = 2,
        Batching = new LanguageModelBatcherOptions { BatchSize = 4, Bptt = 10, Seed = 5 },
        Schedule = total => new OneCycleSchedule(total, 1e-2, Momentums: MomentumCycle.Text),
        CheckpointDirectory = checkpoints,
        TorchSeed = 17,
    };

    static async Task<(List<LanguageModelProgress> Steps, LanguageModelTrainingResult? Result)> Record(
        Func<IProgress<LanguageModelProgress>, CancellationToken, Task<LanguageModelTrainingResult>> run, long cancelAtStep = -1)
    {
        var steps = new List<LanguageModelProgress>();
        using var cancel = new CancellationTokenSource();
        var progress = new InlineProgress<LanguageModelProgress>(p =>
        {
            steps.Add(p);
            if (p.Step == cancelAtStep) cancel.Cancel();
        });
        try { return (steps, await run(progress, cancel.Token)); }
        catch (OperationCanceledException) { return (steps, null); }
    }

    [Fact]
    public async Task A_qrnn_run_interrupted_mid_epoch_and_resumed_equals_an_uninterrupted_run()
    {
        using var reference = NewModel(seed: 3);
        var (referenceSteps, referenceResult) = await Record((p, c) => new LanguageModelTrainer(reference, Train, Valid, Options()).TrainAsync(p, c));

        // Interrupted mid-epoch: the carried QRNN state (last input step and cell per layer) must travel in the checkpoint.
        string checkpoints = Path.Combine(_folder, "run");
        using (var interrupted = NewModel(seed: 3))
        {
            var (firstSteps, firstResult) = await Record((p, c) =>
                new LanguageModelTrainer(interrupted, Train, Valid, Options(checkpoints)).TrainAsync(p, c), cancelAtStep: 7);
            Assert.Null(firstResult);
            Assert.Equal(7, firstSteps.Count);
        }
        using var resumedModel = NewModel(seed: 999);
        var (resumedSteps, resumedResult) = await Record((p, c) =>
            new LanguageModelTrainer(resumedModel, Train, Valid, Options(checkpoints)).ResumeAsync(p, c));

        Assert.Equal(referenceSteps.Skip(7).Select(s => s.Step), resumedSteps.Select(s => s.Step));
        foreach (var (expected, actual) in referenceSteps.Skip(7).Zip(resumedSteps))
            Assert.Equal(expected.Loss, actual.Loss, 1e-5);
        Assert.Equal(referenceResult!.Epochs[^1].Validation!.Loss, resumedResult!.Epochs[^1].Validation!.Loss, 1e-5);
        Assert.True(referenceResult.Epochs[^1].TrainLoss < referenceResult.Epochs[0].TrainLoss);
    }

    [Fact]
    public async Task The_learning_rate_finder_sweeps_a_qrnn_model_and_restores_its_weights()
    {
        using var model = NewModel(seed: 4);
        var before = model.parameters().Select(p => p.data<float>().ToArray()).ToArray();
        var result = await LearningRateFinder.FindAsync(model, Train, Options(), new LearningRateSweep { Steps = 40 });
        Assert.True(result.Points.Count > 10);
        Assert.True(result.SuggestedLearningRate > 0);
        var after = model.parameters().Select(p => p.data<float>().ToArray()).ToArray();
        Assert.Equal(before, after);
    }
}
