using System.Runtime.InteropServices;

namespace Ulmfit.Engine;

/// <summary>
/// Caps oneDNN's cache of compiled kernels (<c>ONEDNN_PRIMITIVE_CACHE_CAPACITY</c>, 1,024 by default) for a
/// long-running server, unless the user set the variable. libtorch's oneDNN compiles and keeps a kernel per distinct
/// (rows × sequence length) shape; a server sees a new shape with almost every batch it gathers, so the cache — not a
/// leak — grew the server's memory by about 110 MB over its first 10,000 requests, while with 8 entries it grew by
/// about 35 MB at unchanged throughput (docs/benchmarks.md, "Serving"). oneDNN reads the variable once, on the first
/// kernel it creates, so this must run before any inference; later it changes nothing.
/// </summary>
public static partial class OneDnnPrimitiveCache
{
    public const string Variable = "ONEDNN_PRIMITIVE_CACHE_CAPACITY";

    /// <summary>The capacity <c>ulmfit serve</c> uses.</summary>
    public const int ServingCapacity = 8;

    /// <summary>Sets the capacity in the native environment (the one oneDNN reads, not .NET's copy) unless the
    /// variable is already there. Returns true if it did.</summary>
    public static bool Limit(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        if (!OperatingSystem.IsLinux() || Current() is not null) return false;
        return SetNative(Variable, capacity.ToString(System.Globalization.CultureInfo.InvariantCulture), 0) == 0;
    }

    /// <summary>The capacity in the native environment, or null when unset (oneDNN's default applies).</summary>
    public static string? Current() => OperatingSystem.IsLinux() ? Marshal.PtrToStringUTF8(GetNative(Variable)) : null;

    [LibraryImport("libc", EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr GetNative(string name);

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetNative(string name, string value, int overwrite);
}
