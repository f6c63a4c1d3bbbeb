using TorchSharp;
using Ulmfit.Classification;
using Ulmfit.Data;
using Ulmfit.Engine;
using Ulmfit.Modeling;
using Ulmfit.Training;
using static TorchSharp.torch;
using static Ulmfit.Tests.Classification.TinyClassifiers;

namespace Ulmfit.Tests.Classification;

/// <summary>Tensor.TotalCount is process-wide: runs in the non-parallel tensor-lifetime collection.</summary>
[Collection("TensorLifetimeTests")]
public class ClassifierTensorLifetimeTests
{
    public ClassifierTensorLifetimeTests() => TorchRuntime.Initialise(1);

    [Theory]
    [InlineData(ComputePrecision.Fp32)]
    [InlineData(ComputePrecision.BFloat16)]
    public void Live_tensor_count_stays_flat_over_150_bpt3c_training_steps(ComputePrecision precision)
    {
        // bptt 4 and documents up to 30 tokens: several chunks per batch, some without graph, some pooled.
        var data = BandTask(64, seed: 3);
        var documents = new InMemoryTokenDocuments([.. Enumerable.Range(0, 64).Select(i =>
        {
            var ids = new int[data.Documents.Length(i)];
            data.Documents.CopyTo(i, ids);
            return (int[])[.. ids, .. ids];
        })]);
        var dataset = ClassificationDataset.SingleLabel(documents, [.. Enumerable.Range(0, 64).Select(data.Label)], Classes);
        using var classifier = new TextClassifier(Config(bptt: 4, maxLength: 12)).SetComputePrecision(precision);
        var batcher = new ClassifierBatcher(documents, classifier.Config, new ClassifierBatchingOptions { BatchSize = 8 });
        using var optimizer = new LayerGroupOptimizer(classifier.LayerGroups, AdamWSettings.Ulmfit);
        using var loss = new ClassifierLoss(multiLabel: false, classCount: 3, labelSmoothing: 0.1, classWeights: [1, 2, 1]);
        var step = new ClassifierStep(classifier, optimizer, loss, dataset, gradientClip: 0.5);
        var batches = batcher.TrainingBatches(new Xoshiro256StarStar(1));
        classifier.train();
        void Run(int steps)
        {
            for (int s = 0; s < steps; s++)
            {
                using var scope = NewDisposeScope();
                using var batch = batcher.Build(batches[s % batches.Count]);
                Assert.True(double.IsFinite(step.Run(batch, new ScheduleValues(1e-3, 0.8))));
            }
        }

        Run(16); // optimizer state and LSTM workspaces are created in the first steps
        long scoped = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        long total = torch.Tensor.TotalCount;
        Run(150);

        Assert.Equal(scoped, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.True(torch.Tensor.TotalCount <= total, $"{torch.Tensor.TotalCount - total} tensors leaked in 150 steps");
    }

    [Fact]
    public async Task A_whole_training_run_leaves_no_tensor_behind()
    {
        var options = new ClassifierTrainerOptions
        {
            Stages = [new UnfreezingStage(1, 1, 1e-2), new UnfreezingStage(null, 1, 1e-3)],
            Batching = new ClassifierBatchingOptions { BatchSize = 8 },
        };
        var train = BandTask(48, seed: 4);
        var valid = BandTask(12, seed: 5);
        using var classifier = new TextClassifier(Config(bptt: 4, maxLength: 12, classes: [.. train.Classes]));
        await new ClassifierTrainer(classifier, train, valid, options).TrainAsync(); // warm-up: workspaces, caches
        long before = torch.Tensor.TotalCount;

        await new ClassifierTrainer(classifier, train, valid, options).TrainAsync(); // best-weight snapshots included

        Assert.True(torch.Tensor.TotalCount <= before, $"{torch.Tensor.TotalCount - before} tensors left by one run");
    }
}
