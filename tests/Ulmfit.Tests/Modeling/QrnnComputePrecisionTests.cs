using Ulmfit.Engine;
using Ulmfit.Modeling;
using Ulmfit.Training;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Modeling;

/// <summary>bf16 compute for the QRNN: the gate products in bf16, the forget-mult and everything trained in float32.</summary>
public class QrnnComputePrecisionTests
{
    public QrnnComputePrecisionTests() => TorchRuntime.Initialise(2);

    static AwdLstmLanguageModel Model(long seed)
    {
        manual_seed(seed);
        return new AwdLstmLanguageModel(new AwdLstmConfig(VocabSize: 60)
        {
            Architecture = EncoderArchitecture.Qrnn, EmbeddingSize = 32, HiddenSize = 48, Layers = 3,
        });
    }

    [Fact]
    public void A_bf16_qrnn_forward_gives_float32_logits_close_to_the_fp32_ones()
    {
        using var model = Model(2);
        model.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var tokens = Bf16Checks.Tokens(3, 12, seed: 2);
        var reference = model.Forward(tokens).Logits;                            // (3, 12, 60)
        model.ResetState();
        Assert.All(model.modules().OfType<QrnnLayer>(), l => Assert.Equal(ComputePrecision.Fp32, l.Precision));
        var output = model.SetComputePrecision(ComputePrecision.BFloat16).Forward(tokens);
        Assert.All(model.modules().OfType<QrnnLayer>(), l => Assert.Equal(ComputePrecision.BFloat16, l.Precision));

        Assert.Equal(ScalarType.Float32, output.Logits.dtype);
        Bf16Checks.AssertCloseButNotIdentical(output.Logits, reference);

        // The carried state continues across a switch back to fp32.
        var next = model.SetComputePrecision(ComputePrecision.Fp32).Forward(Bf16Checks.Tokens(3, 4, seed: 3)).Logits;
        Assert.Equal(ScalarType.Float32, next.dtype);
    }

    [Fact]
    public void Bf16_qrnn_training_sends_float32_gradients_to_every_weight()
    {
        using var model = Model(5).SetComputePrecision(ComputePrecision.BFloat16);
        model.train();
        var loss = new LanguageModelLoss();
        using var scope = NewDisposeScope();
        var stream = Bf16Checks.Tokens(4, 11, seed: 10);
        var output = model.Forward(stream.narrow(1, 0, 10));
        var total = LanguageModelLoss.CrossEntropy(output.Logits, stream.narrow(1, 1, 10)) + loss.Regularisation(output);
        Assert.Equal(ScalarType.Float32, total.dtype);
        total.backward();
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        Bf16Checks.AssertFloat32GradientsEverywhere(model.parameters());
    }
}
