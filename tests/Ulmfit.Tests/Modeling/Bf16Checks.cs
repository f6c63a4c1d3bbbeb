using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Modeling;

/// <summary>What the bf16 tests of both encoders check the same way: seeded token batches, bf16 logits against the
/// fp32 ones, and float32 gradients reaching every weight through the casts.</summary>
internal static class Bf16Checks
{
    /// <summary>(batch, seq) int64 ids in [2, 60) — never xxunk/xxpad — from <paramref name="seed"/>.</summary>
    public static Tensor Tokens(long batch, long seq, long seed)
    {
        using var generator = new Generator((ulong)seed);
        return randint(2, 60, [batch, seq], dtype: ScalarType.Int64, generator: generator);
    }

    /// <summary>bf16 keeps 8 significant bits (relative step 2^-8 ≈ 0.4 %); through the layers and the decoder the error
    /// stays within a few steps of the largest logit — but it must not be zero, or the casts did not happen.</summary>
    public static void AssertCloseButNotIdentical(Tensor bf16Logits, Tensor fp32Logits)
    {
        double maxDiff = (bf16Logits - fp32Logits).abs().max().item<float>();
        double scale = fp32Logits.abs().max().item<float>();
        Assert.True(maxDiff > 0, "bf16 gave bit-identical logits: the casts did not happen");
        Assert.True(maxDiff <= 0.03 * scale + 1e-3, $"bf16 logits differ by {maxDiff} (largest logit {scale})");
    }

    /// <summary>Every parameter got a non-zero float32 gradient.</summary>
    public static void AssertFloat32GradientsEverywhere(IEnumerable<Parameter> parameters)
    {
        foreach (var p in parameters)
        {
            Assert.NotNull(p.grad);
            Assert.Equal(ScalarType.Float32, p.grad!.dtype);
            Assert.True(p.grad.abs().sum().item<float>() > 0, "a parameter got no gradient through the bf16 casts");
        }
    }
}
