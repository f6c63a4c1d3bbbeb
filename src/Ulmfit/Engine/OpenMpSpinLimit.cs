using System.Runtime.InteropServices;

namespace Ulmfit.Engine;

/// <summary>
/// Shortens how long libtorch's OpenMP workers busy-wait after each parallel operator (GNU OpenMP's
/// <c>GOMP_SPINCOUNT</c>, 300,000 by default) to 10,000, unless the user set <c>GOMP_SPINCOUNT</c> or
/// <c>OMP_WAIT_POLICY</c> themselves. The int8 LSTM kernel runs on its own threads right after libtorch operators;
/// with the default, an OpenMP worker kept spinning on one of the two cores during the kernel's first milliseconds,
/// and int8 inference at batch 64 × 16 tokens ran at 586 docs/s instead of 820. bf16 inference and LM training
/// measured the same either way (docs/benchmarks.md). libgomp reads the variable once, when libtorch loads, so this
/// must run before the first libtorch call; later it changes nothing.
/// </summary>
public static partial class OpenMpSpinLimit
{
    public const string Variable = "GOMP_SPINCOUNT";
    public const string Value = "10000";

    /// <summary>True once <see cref="Apply"/> has set the variable (rather than found the user's own choice).</summary>
    public static bool Applied { get; private set; }

    /// <summary>Sets the limit in the native environment unless either variable is already there. Returns true if it did.</summary>
    public static bool Apply()
    {
        if (!OperatingSystem.IsLinux()) return false;
        if (GetNative(Variable) != IntPtr.Zero || GetNative("OMP_WAIT_POLICY") != IntPtr.Zero) return false;
        // The native environment, not .NET's copy (Environment.SetEnvironmentVariable), is what libgomp reads.
        Applied = SetNative(Variable, Value, 0) == 0;
        return Applied;
    }

    /// <summary>The spin count libgomp was given (<c>GOMP_SPINCOUNT</c> in the native environment), or null when unset
    /// (then <c>OMP_WAIT_POLICY</c> or libgomp's default applies). Benchmarks report it.</summary>
    public static string? Current() => OperatingSystem.IsLinux() ? Marshal.PtrToStringUTF8(GetNative(Variable)) : null;

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetNative(string name);

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetNative(string name, string value, int overwrite);
}
