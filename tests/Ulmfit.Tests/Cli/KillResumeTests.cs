using System.Diagnostics;
using System.Text.Json;
using Ulmfit.Cli;

namespace Ulmfit.Tests.Cli;

/// <summary><c>pretrain</c> killed with SIGKILL (no chance to save) mid-run continues from its last timed checkpoint
/// with <c>--resume</c> to exactly the result of a run never interrupted.</summary>
[Collection(Training.TorchRandomCollection.Name)]
public sealed class KillResumeTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ulmfit-kill-").FullName;

    string[] Pretrain(string output, params string[] extra) =>
    [
        "pretrain", "--corpus", Path.Combine(RepositoryPaths.Samples, "support-tickets", "unlabeled.csv"), "--out", output,
        "--epochs", "12", "--emb", "16", "--hidden", "32", "--bptt", "12", "--batch-size", "8", "--max-vocab", "800",
        "--min-freq", "2", "--threads", "1", "--dtype", "fp32", .. extra,
    ];

    static double ValidPerplexity(string json) =>
        JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("valid_perplexity").GetDouble();

    [Fact]
    public async Task Pretrain_killed_mid_run_and_resumed_ends_exactly_where_an_uninterrupted_run_does()
    {
        string reference = Path.Combine(_dir, "reference.json");
        Assert.Equal(0, CliApp.Run(Pretrain(Path.Combine(_dir, "reference"), "--json", reference), new CapturedConsole()));

        // A run checkpointing every 0.3 s, killed once it has written a few checkpoints (at whatever step it is in)
        string lm = Path.Combine(_dir, "killed");
        string checkpoints = Path.Combine(lm, "checkpoints", "pretrain");
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "Ulmfit.Cli"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string a in Pretrain(lm, "--checkpoint-minutes", "0.005")) start.ArgumentList.Add(a);
        using (var process = Process.Start(start)!)
        {
            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
            while (!process.HasExited && DateTime.UtcNow < deadline &&
                   !(Directory.Exists(checkpoints) && Directory.EnumerateDirectories(checkpoints, "step-*").Count() >= 2))
                await Task.Delay(50);
            Assert.False(process.HasExited, "the run ended before it could be killed; give it more epochs");
            process.Kill(entireProcessTree: true); // SIGKILL
            await process.WaitForExitAsync();
        }
        Assert.False(File.Exists(Path.Combine(lm, "model.json")), "the run was killed after it finished");

        string resumed = Path.Combine(_dir, "resumed.json");
        var console = new CapturedConsole();
        Assert.Equal(0, CliApp.Run(Pretrain(lm, "--checkpoint-minutes", "0.005", "--resume", "--json", resumed), console));
        Assert.Equal(ValidPerplexity(reference), ValidPerplexity(resumed));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
