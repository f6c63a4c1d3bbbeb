using Ulmfit.Cli;
using Ulmfit.Cli.Infrastructure;

namespace Ulmfit.Tests.Cli;

/// <summary>Output paths are checked before the work, and a read-only model folder still gets its evaluation.</summary>
[Collection(Training.TorchRandomCollection.Name)]
public class OutputPathTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ulmfit-output-").FullName;

    static string Sample(string file) => Path.Combine(RepositoryPaths.Samples, "support-tickets", file);

    [Theory]
    [InlineData("under-a-file")]
    [InlineData("a-folder")]
    public void An_unwritable_json_path_is_refused_before_anything_runs(string problem)
    {
        string blocker = Path.Combine(_dir, "blocker");
        string json;
        if (problem == "under-a-file") { File.WriteAllText(blocker, "a file"); json = Path.Combine(blocker, "fit.json"); }
        else { Directory.CreateDirectory(blocker); json = blocker; }
        string outDir = Path.Combine(_dir, "model");
        var console = new CapturedConsole();

        int code = CliApp.Run(["fit", "--train", Sample("train.csv"), "--out", outDir, "--from-scratch", "--json", json], console);

        Assert.Equal(CommandRunner.BadInput, code);
        Assert.StartsWith($"--json {json}: ", Assert.Single(console.Errors));
        Assert.False(Directory.Exists(outDir), "the fit ran before the --json path was checked");
    }

    [SkippableFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Evaluate_on_a_read_only_model_folder_reports_its_metrics_and_skips_the_plot_with_a_warning()
    {
        // Given a tiny model in a folder this process cannot write
        string model = Path.Combine(_dir, "model");
        Assert.Equal(0, CliApp.Run(["fit", "--train", Sample("train.csv"), "--out", model, "--from-scratch", "--emb", "16", "--hidden", "32",
            "--layers", "1", "--epochs", "1", "--bptt", "12", "--batch-size", "16", "--threads", "1"], new CapturedConsole()));
        using var readOnly = ReadOnlyFolder.TryCreate(model);
        Skip.If(readOnly is null, "cannot make a folder read-only here (root ignores permissions and mount is not allowed)");

        // When it is evaluated without --json or --confusion-png (the plot's default place is the model folder)
        var console = new CapturedConsole();
        int code = CliApp.Run(["evaluate", "--model", model, "--test", Sample("test.csv"), "--threads", "1"], console);

        // Then the metrics are there, and the plot is skipped with a warning
        Assert.True(code == 0, string.Join("\n", console.Errors));
        Assert.Contains(console.Results, line => line.StartsWith("accuracy ", StringComparison.Ordinal));
        Assert.Contains(console.Infos, line => line.StartsWith("warning: cannot write", StringComparison.Ordinal));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A folder made read-only for this process: by permissions, or — as root, whom permissions do not stop —
    /// by a read-only bind mount of it onto itself; undone on dispose.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    sealed class ReadOnlyFolder : IDisposable
    {
        readonly string folder;
        readonly bool mounted;

        ReadOnlyFolder(string folder, bool mounted) => (this.folder, this.mounted) = (folder, mounted);

        public static ReadOnlyFolder? TryCreate(string folder)
        {
            var mode = File.GetUnixFileMode(folder);
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserExecute);
            if (!OutputPath.CanCreateFileIn(folder)) return new ReadOnlyFolder(folder, mounted: false);
            File.SetUnixFileMode(folder, mode);
            if (ExternalProgram.Succeeds("mount", "--bind", folder, folder) && ExternalProgram.Succeeds("mount", "-o", "remount,bind,ro", folder, folder))
            {
                if (!OutputPath.CanCreateFileIn(folder)) return new ReadOnlyFolder(folder, mounted: true);
            }
            ExternalProgram.Succeeds("umount", folder);
            return null;
        }

        public void Dispose()
        {
            if (mounted) ExternalProgram.Succeeds("umount", folder);
            else File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
