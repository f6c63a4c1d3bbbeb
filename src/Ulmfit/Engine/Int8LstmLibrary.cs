using System.Runtime.InteropServices;

namespace Ulmfit.Engine;

/// <summary>
/// The optional native library <c>libulmfit_native.so</c> (built from <c>native/int8_lstm.c</c> when a C compiler is
/// present at build time): a fused int8 LSTM layer for inference on AVX-512 VNNI CPUs. This class binds its four entry
/// points and says whether it can be used here, and if not, why.
/// </summary>
public static partial class Int8LstmLibrary
{
    const string LibraryName = "ulmfit_native";
    const string FileName = "libulmfit_native.so";

    static readonly Lazy<string?> Unavailability = new(FindUnavailability);

    /// <summary>True when the library is present and this CPU has the instructions it needs.</summary>
    public static bool IsAvailable => Unavailability.Value is null;

    /// <summary>Why the kernel cannot run here (one sentence), or null when it can.</summary>
    public static string? WhyUnavailable => Unavailability.Value;

    static string? FindUnavailability()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return "the int8 LSTM kernel is built for Linux on x86-64 only";
        if (!NativeLibrary.TryLoad(LibraryName, typeof(Int8LstmLibrary).Assembly, DllImportSearchPath.AssemblyDirectory, out _))
            return $"the int8 LSTM kernel ({Path.Combine(AppContext.BaseDirectory, FileName)}) is missing: it is built only where a C compiler was found at build time (apt-get install gcc, then rebuild)";
        return Supported() != 0 ? null : "this CPU lacks AVX-512 VNNI, which the int8 LSTM kernel needs";
    }

    /// <summary>1 when the CPU has AVX-512 F/BW/DQ/VL and VNNI.</summary>
    [LibraryImport(LibraryName, EntryPoint = "ulm_int8_lstm_supported")]
    private static partial int Supported();

    /// <summary>Quantizes one layer (PyTorch layout, float32, row-major); returns the packed layer or zero.</summary>
    [LibraryImport(LibraryName, EntryPoint = "ulm_int8_lstm_pack")]
    internal static unsafe partial IntPtr Pack(float* inputWeight, float* hiddenWeight, float* inputBias, float* hiddenBias,
        int inputSize, int hiddenSize);

    /// <summary>Frees a packed layer.</summary>
    [LibraryImport(LibraryName, EntryPoint = "ulm_int8_lstm_free")]
    internal static partial void Free(IntPtr layer);

    /// <summary>Runs a packed layer: 0 on success, −1 for invalid arguments, −2 when memory or threads ran out.</summary>
    [LibraryImport(LibraryName, EntryPoint = "ulm_int8_lstm_forward")]
    internal static unsafe partial int Forward(IntPtr layer, float* input, int batch, int steps, float* h0, float* c0,
        float* output, float* hn, float* cn, int threads);
}
