using System.Text.Json;
using Ulmfit.Cli;
using Ulmfit.Cli.Infrastructure;

namespace Ulmfit.Tests.Cli;

public class ImportFastaiCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ulmfit-import-cli-").FullName;

    static string Fixture(string name) => Path.Combine(RepositoryPaths.Shared!, "fixtures", "fastai", name);

    [SkippableFact]
    public void Imported_fastai_model_reports_its_tensors_and_can_generate()
    {
        Skip.If(RepositoryPaths.Shared == null, "../shared (fastai fixtures) is not present");
        string lm = Path.Combine(_dir, "lm"), json = Path.Combine(_dir, "import.json");
        var console = new CapturedConsole();
        Assert.True(CliApp.Run(["import-fastai", "--weights", Fixture("lm_legacy.pth"), "--vocab", Fixture("itos.pkl"), "--out", lm, "--json", json], console) == 0,
            string.Join("\n", console.Errors));
        using var summary = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(24, summary.RootElement.GetProperty("vocab_size").GetInt32());
        Assert.Equal(14, summary.RootElement.GetProperty("tensors").GetInt32()); // embedding (tied), 3 × 4 LSTM tensors, decoder bias

        var generated = new CapturedConsole();
        Assert.Equal(0, CliApp.Run(["generate", "--lm", lm, "--prompt", "the", "--words", "5"], generated));
        Assert.StartsWith("the", Assert.Single(generated.Results));
    }

    [SkippableFact]
    public void A_hostile_pickle_is_refused_with_one_line_and_nothing_is_written()
    {
        Skip.If(RepositoryPaths.Shared == null, "../shared (fastai fixtures) is not present");
        string lm = Path.Combine(_dir, "lm");
        var console = new CapturedConsole();
        int code = CliApp.Run(["import-fastai", "--weights", Fixture("lm_zip.pth"), "--vocab", Fixture("hostile.pkl"), "--out", lm], console);
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("os.system", Assert.Single(console.Errors));
        Assert.False(Directory.Exists(lm) && Directory.EnumerateFileSystemEntries(lm).Any());
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
