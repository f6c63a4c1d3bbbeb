using Ulmfit.Engine;
using static TorchSharp.torch;

namespace Ulmfit.Tests.IO;

/// <summary>Tensors with known values, made without libtorch's global random generator (other tests seed it).</summary>
static class TestTensors
{
    static TestTensors() => TorchRuntime.Initialise(2);

    /// <summary>A float32 tensor of <paramref name="shape"/> with values from a seeded .NET generator.</summary>
    public static Tensor Random(int seed, params long[] shape)
    {
        TorchRuntime.Initialise(2);
        var random = new Random(seed);
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var values = new float[count];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return tensor(values, shape);
    }

    public static float[] Values(Tensor t) => t.to_type(ScalarType.Float32).contiguous().data<float>().ToArray();

    /// <summary>Whether two tensors have the same type, shape and bit-identical values.</summary>
    public static bool Identical(Tensor a, Tensor b) =>
        a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.contiguous().bytes.SequenceEqual(b.contiguous().bytes);
}
