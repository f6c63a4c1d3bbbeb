namespace Ulmfit.Engine;

/// <summary>
/// The instruction-set flags of this machine's CPU, as Linux reports them in <c>/proc/cpuinfo</c>, and what they
/// mean for the compute type: bfloat16 matrix products are fast only where the CPU has native bf16 instructions
/// (AMX-BF16 tiles or AVX-512 BF16 dot products); elsewhere libtorch emulates bf16 and it is slower than fp32.
/// </summary>
public sealed class CpuFeatures
{
    static readonly Lazy<CpuFeatures> Detected = new(Detect);

    CpuFeatures(IReadOnlySet<string> flags) => Flags = flags;

    /// <summary>The flags of the first processor entry (all cores of one machine report the same set).</summary>
    public IReadOnlySet<string> Flags { get; }

    /// <summary>Advanced Matrix Extensions with bf16 tiles (<c>amx_bf16</c>).</summary>
    public bool HasAmxBFloat16 => Flags.Contains("amx_bf16");

    /// <summary>AVX-512 bf16 dot-product instructions (<c>avx512_bf16</c>).</summary>
    public bool HasAvx512BFloat16 => Flags.Contains("avx512_bf16");

    /// <summary>AVX-512 Foundation (<c>avx512f</c>).</summary>
    public bool HasAvx512 => Flags.Contains("avx512f");

    /// <summary>The vector extensions that decide which kernels run, widest first, e.g. "avx512f avx512_vnni
    /// avx512_bf16 avx2 fma" or "avx2 fma": what benchmark JSON reports as the CPU's ISA.</summary>
    public string VectorIsa => string.Join(' ', new[] { "amx_bf16", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "avx2", "fma" }.Where(Flags.Contains));

    /// <summary>True when bf16 matrix products run natively, so <c>--dtype auto</c> picks bf16.</summary>
    public bool SupportsFastBFloat16 => HasAmxBFloat16 || HasAvx512BFloat16;

    /// <summary>This machine's features, read once from <c>/proc/cpuinfo</c>; no flags where that file is absent
    /// (other operating systems), so nothing is assumed.</summary>
    public static CpuFeatures Current => Detected.Value;

    /// <summary>Parses <c>/proc/cpuinfo</c> text: the first <c>flags</c> line (x86) or <c>Features</c> line (ARM).</summary>
    public static CpuFeatures Parse(string cpuinfo)
    {
        ArgumentNullException.ThrowIfNull(cpuinfo);
        foreach (string line in cpuinfo.Split('\n'))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0) continue;
            string key = line[..colon].Trim();
            if (key is not ("flags" or "Features")) continue;
            var flags = line[(colon + 1)..].Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            return new CpuFeatures(new HashSet<string>(flags, StringComparer.Ordinal));
        }
        return new CpuFeatures(new HashSet<string>(StringComparer.Ordinal));
    }

    static CpuFeatures Detect()
    {
        try
        {
            return Parse(File.ReadAllText("/proc/cpuinfo"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Parse("");
        }
    }
}
