using System.Diagnostics;

namespace Ulmfit.Tests.IO;

/// <summary>Runs scripts under the system Python with PyTorch (Debian's python3-torch), when it is installed.</summary>
static class PythonTorch
{
    const string Python = "/usr/bin/python3";

    static readonly Lazy<bool> Present = new(() => File.Exists(Python) && Run("import torch", [], out _, out _) == 0);

    public static bool Available => Present.Value;

    public static string SkipReason => $"{Python} with torch is not installed";

    /// <summary>Runs <paramref name="script"/> with <paramref name="arguments"/> (sys.argv[1:]); throws with stderr on failure.</summary>
    public static string RunChecked(string script, params string[] arguments)
    {
        int code = Run(script, arguments, out string stdout, out string stderr);
        if (code != 0) throw new InvalidOperationException($"python exited with {code}: {stderr}");
        return stdout;
    }

    static int Run(string script, string[] arguments, out string stdout, out string stderr)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        foreach (string a in arguments) start.ArgumentList.Add(a);
        start.Environment["OMP_NUM_THREADS"] = "1";
        using var process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync(), error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("python did not finish in 120 s");
        }
        stdout = output.Result;
        stderr = error.Result;
        return process.ExitCode;
    }
}
