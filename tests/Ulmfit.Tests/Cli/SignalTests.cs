using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Ulmfit.Cli.Infrastructure;

namespace Ulmfit.Tests.Cli;

/// <summary>SIGTERM — what systemd, Docker and Kubernetes send — stops a training run the way Ctrl+C does.</summary>
[Collection(Training.TorchRandomCollection.Name)]
public class SignalTests : IDisposable
{
    const int SIGTERM = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int Kill(int pid, int signal);

    readonly string _dir = Directory.CreateTempSubdirectory("ulmfit-signal-").FullName;

    [Fact]
    public async Task Sigterm_during_pretrain_saves_a_checkpoint_and_exits_143()
    {
        // Given a tiny pretraining run with far more epochs than the test waits for, printing progress every step
        string lm = Path.Combine(_dir, "lm");
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "Ulmfit.Cli"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string a in new[] { "pretrain", "--corpus", Path.Combine(RepositoryPaths.Samples, "support-tickets", "unlabeled.csv"),
            "--out", lm, "--epochs", "1000", "--emb", "16", "--hidden", "32", "--bptt", "12", "--batch-size", "8",
            "--max-vocab", "800", "--min-freq", "2", "--threads", "1" })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        var training = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Collect(string? line)
        {
            if (line is null) return;
            lock (output) output.AppendLine(line);
            if (line.Contains("step", StringComparison.Ordinal)) training.TrySetResult();
        }
        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await training.Task.WaitAsync(TimeSpan.FromSeconds(120));

            // When SIGTERM arrives mid-training
            Assert.Equal(0, Kill(process.Id, SIGTERM));
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

            // Then it said so, wrote a checkpoint, and exited 128 + 15
            string text;
            lock (output) text = output.ToString();
            Assert.True(process.ExitCode == CommandRunner.Terminated, $"exit code {process.ExitCode}: {text}");
            Assert.Contains(CommandRunner.SavesACheckpoint, text);
            Assert.Contains("stopped by SIGTERM", text);
            string checkpoints = Path.Combine(lm, "checkpoints");
            Assert.True(Directory.Exists(checkpoints) && Directory.EnumerateFiles(checkpoints, "*", SearchOption.AllDirectories).Any(),
                $"no checkpoint under {checkpoints}: {text}");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
