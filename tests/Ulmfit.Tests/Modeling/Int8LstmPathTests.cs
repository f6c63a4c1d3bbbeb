using X86 = System.Runtime.Intrinsics.X86;
using Ulmfit.Engine;
using Ulmfit.Modeling;
using static TorchSharp.torch;

namespace Ulmfit.Tests.Modeling;

/// <summary>Each instruction-set path of the fused int8 LSTM kernel, on whatever CPU runs the tests: against fp32,
/// against the scalar reference path, across thread counts and across chunked calls. A path the CPU lacks skips,
/// saying what is missing.</summary>
public class Int8LstmPathTests
{
    public static TheoryData<Int8LstmPath> Paths => [Int8LstmPath.Scalar, Int8LstmPath.Avx2, Int8LstmPath.AvxVnni, Int8LstmPath.Avx512Vnni];

    static void SkipUnlessRuns(Int8LstmPath path) => Skip.IfNot(Int8LstmLibrary.Runs(path), Int8LstmLibrary.WhyPathUnavailable(path));

    // Sizes off every path's blocking: 10 inputs (padded to 12; AVX2 quantizes 8 lanes and a scalar tail), 20 units
    // (padded to 32: a full 16-unit block and a block of 4 real units), 7 rows (VNNI: 6 + 1, AVX2: 2 + 2 + 2 + 1).
    const long Batch = 7, Steps = 9, Input = 10, Hidden = 20;

    sealed record Layer(Tensor InputWeight, Tensor HiddenWeight, Tensor InputBias, Tensor HiddenBias, Tensor X, Tensor H0, Tensor C0);

    static Layer Draw(long seed)
    {
        using var g = new TorchSharp.torch.Generator((ulong)seed);
        double bound = 1 / Math.Sqrt(Hidden);
        Tensor Uniform(params long[] shape) => rand(shape, generator: g) * (2 * bound) - bound;
        return new Layer(Uniform(4 * Hidden, Input), Uniform(4 * Hidden, Hidden), Uniform(4 * Hidden), Uniform(4 * Hidden),
            randn([Batch, Steps, Input], generator: g), rand([1, Batch, Hidden], generator: g) * 1.6 - 0.8, randn([1, Batch, Hidden], generator: g));
    }

    static Int8LstmKernel Pack(Layer l) => Int8LstmKernel.Pack(l.InputWeight, l.HiddenWeight, l.InputBias, l.HiddenBias);

    static double RelativeError(Tensor actual, Tensor expected)
    {
        using var d = (actual - expected).norm() / expected.norm();
        return d.item<float>();
    }

    [SkippableTheory]
    [MemberData(nameof(Paths))]
    public void A_path_matches_fp32_within_quantisation_error_whatever_the_thread_count(Int8LstmPath path)
    {
        SkipUnlessRuns(path);
        using var scope = NewDisposeScope();
        var l = Draw(11);
        var (refOut, refH, refC) = LstmReference.Run(l.X, l.InputWeight, l.HiddenWeight, l.InputBias, l.HiddenBias, l.H0[0], l.C0[0]);
        using var kernel = Pack(l);

        var (output, hidden, cell) = kernel.Forward(l.X, l.H0, l.C0, threads: 1, path);
        var (output2, _, cell2) = kernel.Forward(l.X, l.H0, l.C0, threads: 2, path);

        Assert.Equal([Batch, Steps, Hidden], output.shape);
        Assert.InRange(RelativeError(output, refOut), 0, 0.03);   // int8 weights, inputs and h, a scale per row each
        Assert.InRange(LstmReference.MaxAbsDifference(hidden[0], refH), 0, 0.05);
        Assert.InRange(LstmReference.MaxAbsDifference(cell[0], refC), 0, 0.08);
        Assert.Equal(0, LstmReference.MaxAbsDifference(hidden[0], output.select(1, Steps - 1)));
        // Each unit is computed by one worker in the same order whatever the split.
        Assert.Equal(0, LstmReference.MaxAbsDifference(output, output2));
        Assert.Equal(0, LstmReference.MaxAbsDifference(cell, cell2));
    }

    [SkippableTheory]
    [MemberData(nameof(Paths))]
    public void A_state_carried_into_a_second_call_gives_exactly_the_one_call_result(Int8LstmPath path)
    {
        SkipUnlessRuns(path);
        using var scope = NewDisposeScope();
        var l = Draw(12);
        using var kernel = Pack(l);

        var (whole, _, wholeCell) = kernel.Forward(l.X, l.H0, l.C0, threads: 2, path);
        var (first, h, c) = kernel.Forward(l.X.narrow(1, 0, 4), l.H0, l.C0, threads: 2, path);
        var (second, _, lastCell) = kernel.Forward(l.X.narrow(1, 4, Steps - 4), h, c, threads: 2, path);

        // BPT3C feeds documents in chunks: the carried float32 state is quantized exactly as inside one call.
        Assert.Equal(0, LstmReference.MaxAbsDifference(whole, cat([first, second], 1)));
        Assert.Equal(0, LstmReference.MaxAbsDifference(wholeCell, lastCell));
    }

    [SkippableTheory]
    [InlineData(Int8LstmPath.Avx2)]
    [InlineData(Int8LstmPath.AvxVnni)]
    [InlineData(Int8LstmPath.Avx512Vnni)]
    public void A_fast_path_computes_what_the_scalar_reference_does(Int8LstmPath path)
    {
        SkipUnlessRuns(path);
        using var scope = NewDisposeScope();
        var l = Draw(13);
        using var kernel = Pack(l);

        var (reference, _, referenceCell) = kernel.Forward(l.X, l.H0, l.C0, threads: 1, Int8LstmPath.Scalar);
        var (output, _, cell) = kernel.Forward(l.X, l.H0, l.C0, threads: 2, path);
        var (noState, _, _) = kernel.Forward(l.X, null, null, threads: 1, path);
        var (noStateReference, _, _) = kernel.Forward(l.X, null, null, threads: 1, Int8LstmPath.Scalar);

        // The same int32 sums of the same bytes and the same float operations in the same order: only the last bit of
        // a float may differ, and a bit flip can move a later quantized h by one step (1/127 of its row's range).
        Assert.InRange(LstmReference.MaxAbsDifference(output, reference), 0, 1e-4);
        Assert.InRange(LstmReference.MaxAbsDifference(cell, referenceCell), 0, 1e-4);
        Assert.InRange(LstmReference.MaxAbsDifference(noState, noStateReference), 0, 1e-4);
    }

    [Fact]
    public void The_fastest_path_is_one_this_cpu_runs_and_a_missing_one_says_what_it_lacks()
    {
        Assert.Equal(Int8LstmLibrary.IsAvailable, Int8LstmLibrary.FastestPath is not null);
        if (Int8LstmLibrary.FastestPath is { } fastest)
        {
            Assert.True(Int8LstmLibrary.Runs(fastest));
            Assert.NotEqual(Int8LstmPath.Scalar, fastest);
            if (Int8LstmLibrary.Runs(Int8LstmPath.Avx512Vnni)) Assert.Equal(Int8LstmPath.Avx512Vnni, fastest);
            else if (Int8LstmLibrary.Runs(Int8LstmPath.AvxVnni)) Assert.Equal(Int8LstmPath.AvxVnni, fastest);
            Assert.True(Int8LstmLibrary.Runs(Int8LstmPath.Scalar));
            // The kernel's CPUID reading agrees with .NET's own.
            Assert.Equal(X86.Avx2.IsSupported && X86.Fma.IsSupported, Int8LstmLibrary.Runs(Int8LstmPath.Avx2));
            Assert.Equal(X86.Avx2.IsSupported && X86.Fma.IsSupported && X86.AvxVnni.IsSupported, Int8LstmLibrary.Runs(Int8LstmPath.AvxVnni));
        }
        foreach (var path in Enum.GetValues<Int8LstmPath>())
            Assert.Equal(Int8LstmLibrary.Runs(path), Int8LstmLibrary.WhyPathUnavailable(path) is null);
        Assert.Equal(["scalar", "avx2", "avx512-vnni", "avx-vnni"], Enum.GetValues<Int8LstmPath>().Select(Int8LstmLibrary.Name));
    }

    [Fact]
    public void The_path_variable_pins_a_path_this_cpu_runs_and_refuses_others_in_one_sentence()
    {
        Assert.Null(Int8LstmLibrary.ParsePinnedPath(null));
        Assert.Null(Int8LstmLibrary.ParsePinnedPath("  "));
        var unknown = Assert.Throws<ArgumentException>(() => Int8LstmLibrary.ParsePinnedPath("avx3"));
        Assert.Contains(Int8LstmLibrary.PathVariable + "=avx3", unknown.Message);
        Assert.Contains("avx512-vnni", unknown.Message);
        foreach (var path in Enum.GetValues<Int8LstmPath>())
        {
            string name = Int8LstmLibrary.Name(path).ToUpperInvariant();
            if (Int8LstmLibrary.Runs(path)) Assert.Equal(path, Int8LstmLibrary.ParsePinnedPath(name));
            else Assert.Contains(Int8LstmLibrary.WhyPathUnavailable(path)!, Assert.Throws<PlatformNotSupportedException>(() => Int8LstmLibrary.ParsePinnedPath(name)).Message);
        }
    }
}
