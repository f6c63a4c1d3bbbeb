using System.Diagnostics;

namespace Ulmfit.Tests;

/// <summary>Runs a system program (mkfifo, mount) for a test's set-up.</summary>
static class ExternalProgram
{
    /// <summary>Whether <paramref name="program"/> ran and exited 0 (false when it is not installed).</summary>
    public static bool Succeeds(string program, params string[] args)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(program, args) { UseShellExecute = false, RedirectStandardError = true })!;
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }
}
