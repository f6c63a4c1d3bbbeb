using System.Runtime.InteropServices;

namespace Ulmfit.Engine;

/// <summary>
/// The optional native library <c>libulmfit_native.so</c> (built from <c>native/int8_lstm.c</c> when a C compiler is
/// present at build time): a fused int8 LSTM layer for inference, with an AVX-512 VNNI, an AVX-VNNI, an AVX2 and a scalar path chosen
/// at run time from CPUID (<see cref="Int8LstmPath"/>). This class binds its entry points and says whether it can be
/// used here, on which path, and if not, why.
/// </summary>
public static partial class Int8LstmLibrary
{
    const string LibraryName = "ulmfit_native";
    const string FileName = "libulmfit_native.so";

    /// <summary>The fast paths, fastest first: what <see cref="FastestPath"/> picks from (the kernel's own order).</summary>
    static readonly Int8LstmPath[] FastPaths = [Int8LstmPath.Avx512Vnni, Int8LstmPath.AvxVnni, Int8LstmPath.Avx2];

    static readonly Lazy<bool> Loads = new(LibraryLoads);
    static readonly Lazy<int> PathBits = new(() => Loads.Value ? Paths() : 0);
    static readonly Lazy<string?> Unavailability = new(FindUnavailability);

    /// <summary>True when the library is present and this CPU runs one of its fast paths (AVX2, AVX-VNNI or AVX-512 VNNI).</summary>
    public static bool IsAvailable => Unavailability.Value is null;

    /// <summary>Why the kernel cannot run here (one sentence), or null when it can.</summary>
    public static string? WhyUnavailable => Unavailability.Value;

    /// <summary>The path the kernel computes with here when not told otherwise: the fastest this CPU runs, or null when
    /// the kernel is unavailable.</summary>
    public static Int8LstmPath? FastestPath => IsAvailable ? FastPaths.First(Runs) : null;

    /// <summary>The environment variable that pins the path (its <see cref="Name"/>: scalar, avx2, avx-vnni,
    /// avx512-vnni), e.g. to measure the AVX2 path on an AVX-512 machine; unset, the fastest path runs.</summary>
    public const string PathVariable = "ULMFIT_INT8_PATH";

    static readonly Lazy<Int8LstmPath?> Pinned = new(() => ParsePinnedPath(Environment.GetEnvironmentVariable(PathVariable)));

    /// <summary>The path the kernel computes with when not told otherwise: the one <see cref="PathVariable"/> pins, else
    /// <see cref="FastestPath"/>; null when the kernel is unavailable. Throws when the variable names no path or one
    /// this CPU lacks.</summary>
    public static Int8LstmPath? DefaultPath => IsAvailable ? Pinned.Value ?? FastestPath : null;

    /// <summary>The path a value of <see cref="PathVariable"/> pins: null for none (unset or blank); throws
    /// <see cref="ArgumentException"/> for an unknown name and <see cref="PlatformNotSupportedException"/> for a path
    /// this CPU lacks, each one sentence naming the variable.</summary>
    public static Int8LstmPath? ParsePinnedPath(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        string name = value.Trim().ToLowerInvariant();
        foreach (var path in Enum.GetValues<Int8LstmPath>())
            if (Name(path) == name)
                return Runs(path) ? path : throw new PlatformNotSupportedException($"{PathVariable}={value}: {WhyPathUnavailable(path)}");
        throw new ArgumentException($"{PathVariable}={value} names no int8 path; use one of {string.Join(", ", Enum.GetValues<Int8LstmPath>().Select(Name))}");
    }

    /// <summary>True when the library is present and this CPU has what <paramref name="path"/> needs.</summary>
    public static bool Runs(Int8LstmPath path) => (PathBits.Value & (1 << (int)path)) != 0;

    /// <summary>Why <paramref name="path"/> cannot run here (one sentence), or null when it can: what the tests skip with.</summary>
    public static string? WhyPathUnavailable(Int8LstmPath path) =>
        Runs(path) ? null
        : !Loads.Value ? Unavailability.Value
        : path switch
        {
            Int8LstmPath.Avx512Vnni => "this CPU lacks AVX-512 VNNI (F, BW, DQ, VL and VNNI)",
            Int8LstmPath.AvxVnni => "this CPU lacks AVX-VNNI (the VEX-encoded vpdpbusd) beside AVX2 with FMA",
            _ => "this CPU lacks AVX2 with FMA",
        };

    /// <summary>The lower-case name reports and JSON use: scalar, avx2, avx-vnni, avx512-vnni.</summary>
    public static string Name(Int8LstmPath path) => path switch
    {
        Int8LstmPath.Avx2 => "avx2",
        Int8LstmPath.AvxVnni => "avx-vnni",
        Int8LstmPath.Avx512Vnni => "avx512-vnni",
        _ => "scalar",
    };

    static bool LibraryLoads() =>
        OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64
        && NativeLibrary.TryLoad(LibraryName, typeof(Int8LstmLibrary).Assembly, DllImportSearchPath.AssemblyDirectory, out _);

    static string? FindUnavailability()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return "the int8 LSTM kernel is built for Linux on x86-64 only";
        if (!Loads.Value)
            return $"the int8 LSTM kernel ({Path.Combine(AppContext.BaseDirectory, FileName)}) is missing: it is built only where a C compiler was found at build time (apt-get install gcc, then rebuild)";
        return FastPaths.Any(Runs) ? null
            : "this CPU has neither AVX2 with FMA nor AVX-512 VNNI, one of which the int8 LSTM kernel needs";
    }

    /// <summary>Bit p set when <see cref="Int8LstmPath"/> p runs on this CPU (the scalar one always does).</summary>
    [LibraryImport(LibraryName, EntryPoint = "ulm_int8_lstm_paths")]
    private static partial int Paths();

    /// <summary>Quantizes one layer (PyTorch layout, float32, row-major); returns the packed layer or zero.</summary>
    [LibraryImport(LibraryName, EntryPoint = "ulm_int8_lstm_pack")]
    internal static unsafe partial IntPtr Pack(float* inputWeight, float* hiddenWeight, float* inputBias, float* hiddenBias,
        int inputSize, int hiddenSize);

    /// <summary>Frees a packed layer.</summary>
    [LibraryImport(LibraryName, EntryPoint = "ulm_int8_lstm_free")]
    internal static partial void Free(IntPtr layer);

    /// <summary>Runs a packed layer on <paramref name="path"/> (an <see cref="Int8LstmPath"/>): 0 on success, −1 for
    /// invalid arguments or a path this CPU lacks, −2 when memory or threads ran out.</summary>
    [LibraryImport(LibraryName, EntryPoint = "ulm_int8_lstm_forward_path")]
    internal static unsafe partial int Forward(IntPtr layer, float* input, int batch, int steps, float* h0, float* c0,
        float* output, float* hn, float* cn, int threads, int path);
}
