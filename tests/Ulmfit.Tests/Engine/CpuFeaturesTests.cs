using Ulmfit.Engine;
using Ulmfit.Modeling;

namespace Ulmfit.Tests.Engine;

public class CpuFeaturesTests
{
    // Trimmed from a real Xeon's /proc/cpuinfo (two processor entries; the flags line repeats per entry).
    const string XeonWithAvx512Bf16 = """
        processor	: 0
        vendor_id	: GenuineIntel
        model name	: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
        flags		: fpu vme de pse tsc msr sse sse2 avx avx2 avx512f avx512bw avx512_vnni avx512_bf16 avx512_fp16
        bugs		: spectre_v1

        processor	: 1
        flags		: fpu vme de pse tsc msr sse sse2 avx avx2 avx512f avx512bw avx512_vnni avx512_bf16 avx512_fp16

        """;

    const string SapphireRapidsWithAmx = "processor\t: 0\nflags\t\t: sse2 avx2 avx512f amx_bf16 amx_tile amx_int8\n";

    const string OlderXeon = "processor\t: 0\nflags\t\t: fpu sse sse2 avx avx2 fma avx512f avx512bw avx512_vnni\n";

    [Fact]
    public void Avx512_bf16_flag_means_fast_bf16_and_auto_picks_bf16()
    {
        var features = CpuFeatures.Parse(XeonWithAvx512Bf16);
        Assert.True(features.HasAvx512BFloat16);
        Assert.False(features.HasAmxBFloat16);
        Assert.True(features.SupportsFastBFloat16);
        Assert.Equal(ComputePrecision.BFloat16, ComputePrecisions.Parse("auto", features));
    }

    [Fact]
    public void Amx_bf16_flag_alone_means_fast_bf16()
    {
        var features = CpuFeatures.Parse(SapphireRapidsWithAmx);
        Assert.True(features.HasAmxBFloat16);
        Assert.True(features.SupportsFastBFloat16);
    }

    [Fact]
    public void A_cpu_without_bf16_flags_makes_auto_pick_fp32()
    {
        var features = CpuFeatures.Parse(OlderXeon);
        Assert.Contains("avx512f", features.Flags);
        Assert.False(features.SupportsFastBFloat16);
        Assert.Equal(ComputePrecision.Fp32, ComputePrecisions.Parse("auto", features));
    }

    [Fact]
    public void Text_without_a_flags_line_has_no_features()
    {
        var features = CpuFeatures.Parse("processor\t: 0\nmodel name\t: something\n");
        Assert.Empty(features.Flags);
        Assert.False(features.SupportsFastBFloat16);
    }

    [Fact]
    public void A_flag_is_matched_whole_not_as_a_prefix()
    {
        Assert.False(CpuFeatures.Parse("flags : avx512_bf16x amx_bf16_extra\n").SupportsFastBFloat16);
    }

    [Theory]
    [InlineData("fp32", ComputePrecision.Fp32)]
    [InlineData("FP32", ComputePrecision.Fp32)]
    [InlineData("bf16", ComputePrecision.BFloat16)]
    [InlineData("bfloat16", ComputePrecision.BFloat16)]
    public void Explicit_dtype_values_do_not_depend_on_the_cpu(string value, ComputePrecision expected)
    {
        Assert.Equal(expected, ComputePrecisions.Parse(value, CpuFeatures.Parse(OlderXeon)));
        Assert.Equal(expected, ComputePrecisions.Parse(value, CpuFeatures.Parse(XeonWithAvx512Bf16)));
    }

    [Fact]
    public void An_unknown_dtype_is_refused_naming_the_choices()
    {
        var e = Assert.Throws<ArgumentException>(() => ComputePrecisions.Parse("fp16"));
        Assert.Contains("fp32, bf16 or auto", e.Message);
    }
}
