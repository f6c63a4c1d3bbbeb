using TorchSharp;
using Ulmfit.Engine;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Modeling;

/// <summary>Tensor.TotalCount is process-wide, so this class runs alone (after the parallel ones).</summary>
[CollectionDefinition(nameof(TensorLifetimeTests), DisableParallelization = true)]
public sealed class TensorLifetimeCollection;

[Collection(nameof(TensorLifetimeTests))]
public class TensorLifetimeTests
{
    public TensorLifetimeTests() => TorchRuntime.Initialise(2);

    static void TrainingStep(AwdLstmLanguageModel model)
    {
        using var scope = NewDisposeScope();
        var stream = randint(0, model.VocabSize, [4, 9], dtype: ScalarType.Int64);
        var output = model.Forward(stream.narrow(1, 0, 8));
        var loss = nn.functional.cross_entropy(output.Logits.reshape(-1, model.VocabSize), stream.narrow(1, 1, 8).reshape(-1))
                   + ActivationRegularization.Ar(output.LastLayerDropped) + ActivationRegularization.Tar(output.LastLayerRaw);
        loss.backward();
        model.zero_grad();
    }

    [Fact]
    public void Live_tensor_count_stays_flat_over_200_training_steps()
    {
        using var model = new AwdLstmLanguageModel(AwdLstmEncoderTests.Tiny());
        model.train();
        for (int i = 0; i < 10; i++) TrainingStep(model);
        long scopedAfterWarmup = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        long totalAfterWarmup = torch.Tensor.TotalCount;

        for (int i = 0; i < 190; i++) TrainingStep(model);

        Assert.Equal(scopedAfterWarmup, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.True(torch.Tensor.TotalCount <= totalAfterWarmup,
            $"{torch.Tensor.TotalCount - totalAfterWarmup} tensors leaked in 190 steps (carried state or workspaces)");
        Assert.All(((AwdLstmEncoder)model.Encoder).Layers, l => Assert.Equal(1, l.WorkspaceCount));
    }

    [SkippableFact]
    public void Live_tensor_count_stays_flat_over_200_int8_inference_steps()
    {
        Skip.IfNot(Int8LstmLibrary.IsAvailable, Int8LstmLibrary.WhyUnavailable);
        using var model = new AwdLstmLanguageModel(AwdLstmEncoderTests.Tiny()).SetComputePrecision(ComputePrecision.Int8);
        model.eval();
        void Step()
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var tokens = randint(0, model.VocabSize, [4, 9], dtype: ScalarType.Int64);
            model.Forward(tokens).Logits.sum().item<float>();               // the state is carried from call to call
        }
        for (int i = 0; i < 10; i++) Step();
        long scopedAfterWarmup = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        long totalAfterWarmup = torch.Tensor.TotalCount;

        for (int i = 0; i < 190; i++) Step();

        Assert.Equal(scopedAfterWarmup, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.True(torch.Tensor.TotalCount <= totalAfterWarmup,
            $"{torch.Tensor.TotalCount - totalAfterWarmup} tensors leaked in 190 int8 steps");
    }

    [Fact]
    public void Live_tensor_count_stays_flat_over_200_qrnn_training_steps()
    {
        using var model = new AwdLstmLanguageModel(QrnnEncoderTests.Tiny());
        model.train();
        for (int i = 0; i < 10; i++) TrainingStep(model);
        long scopedAfterWarmup = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        long totalAfterWarmup = torch.Tensor.TotalCount;

        for (int i = 0; i < 190; i++) TrainingStep(model);

        Assert.Equal(scopedAfterWarmup, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.True(torch.Tensor.TotalCount <= totalAfterWarmup,
            $"{torch.Tensor.TotalCount - totalAfterWarmup} tensors leaked in 190 steps (carried state or saved forget-mult tensors)");
    }

    [Fact]
    public void Live_tensor_count_stays_flat_over_200_bf16_training_steps()
    {
        using var model = new AwdLstmLanguageModel(AwdLstmEncoderTests.Tiny()).SetComputePrecision(ComputePrecision.BFloat16);
        model.train();
        for (int i = 0; i < 10; i++) TrainingStep(model);
        long scopedAfterWarmup = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        long totalAfterWarmup = torch.Tensor.TotalCount;

        for (int i = 0; i < 190; i++) TrainingStep(model);

        Assert.Equal(scopedAfterWarmup, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.True(torch.Tensor.TotalCount <= totalAfterWarmup,
            $"{torch.Tensor.TotalCount - totalAfterWarmup} tensors leaked in 190 bf16 steps (casts, carried state or workspaces)");
        Assert.All(((AwdLstmEncoder)model.Encoder).Layers, l => Assert.Equal(1, l.WorkspaceCount));
    }
}
