namespace Ulmfit.Engine;

/// <summary>
/// Which C allocator serves libtorch's tensors in this process, and the environment that makes it jemalloc.
/// </summary>
/// <remarks>
/// Why it matters: libtorch allocates every intermediate tensor afresh. glibc's malloc serves blocks above 32 MB (its
/// largest mmap threshold) with mmap and returns them with munmap, so each training step faults in and zeroes its
/// big tensors again — a language-model step over a 55,000-word vocabulary touches about 5 GB that way. jemalloc
/// with purging turned off (<see cref="MallocConf"/>) keeps freed pages and hands them out again. Measured with
/// <c>ulmfit bench</c>, two threads (docs/benchmarks.md): LM training 1.6–3.0× the tokens/s, the classifier
/// unchanged. The price: memory freed by libtorch is not given back to the system until the process ends, so the
/// resident set stays at its peak (4.9 GB instead of 4.5 GB in the 55,000-word LM run).
/// An allocator can only be chosen when a process starts (<c>LD_PRELOAD</c>); the CLI restarts itself that way
/// (<see cref="RestartPlan"/>), and a program using the library sets the two variables when it launches.
/// </remarks>
public static class NativeAllocator
{
    /// <summary>The variable that turns the CLI's switch off (<c>system</c>) and marks a process it restarted.</summary>
    public const string SwitchVariable = "ULMFIT_ALLOCATOR";

    /// <summary>jemalloc settings: never purge freed pages (the 30 s decay measured no faster than glibc).</summary>
    public const string MallocConf = "dirty_decay_ms:-1,muzzy_decay_ms:-1";

    /// <summary>Where Debian, Ubuntu, Fedora and source installs put jemalloc's shared library.</summary>
    public static readonly IReadOnlyList<string> JemallocPaths =
    [
        "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
        "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
        "/usr/lib64/libjemalloc.so.2",
        "/usr/lib/libjemalloc.so.2",
        "/usr/local/lib/libjemalloc.so.2",
    ];

    /// <summary>"jemalloc" when jemalloc is mapped into this process, else "system" (read from /proc/self/maps).</summary>
    public static string Current()
    {
        try
        {
            return File.Exists("/proc/self/maps") && File.ReadLines("/proc/self/maps").Any(l => l.Contains("libjemalloc", StringComparison.Ordinal))
                ? "jemalloc" : "system";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "system";
        }
    }

    /// <summary>
    /// The variables to add for a restart under jemalloc, or null when there is nothing to do: the switch says
    /// <c>system</c>, this process is already a restarted one, the user preloads jemalloc themselves, or no jemalloc is
    /// installed. An existing <c>LD_PRELOAD</c> is kept after jemalloc's path; a user's own <c>MALLOC_CONF</c> is kept.
    /// </summary>
    public static IReadOnlyDictionary<string, string>? RestartPlan(Func<string, string?> environment, Func<string, bool> fileExists)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(fileExists);
        if (!string.IsNullOrEmpty(environment(SwitchVariable))) return null;   // "system", or set by our own restart
        string? preload = environment("LD_PRELOAD");
        if (preload?.Contains("jemalloc", StringComparison.Ordinal) == true) return null;
        string? library = JemallocPaths.FirstOrDefault(fileExists);
        if (library == null) return null;
        return new Dictionary<string, string>
        {
            ["LD_PRELOAD"] = string.IsNullOrEmpty(preload) ? library : $"{library}:{preload}",
            ["MALLOC_CONF"] = environment("MALLOC_CONF") ?? MallocConf,
            [SwitchVariable] = "jemalloc",
        };
    }
}
