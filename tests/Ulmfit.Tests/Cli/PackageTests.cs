namespace Ulmfit.Tests.Cli;

/// <summary>
/// The packages work the way a .NET user consumes them: packed into a local folder feed, the library quickstart —
/// copied outside the repository, referencing <c>Ulmfit</c> and <c>Ulmfit.Models.English</c> by package — restores,
/// builds (loading TorchSharp on Debian 12 through the package's own fix), trains and predicts; the <c>ulmfit</c> tool
/// installs from the feed and runs. Each run packs a fresh prerelease version, so NuGet's cache never serves an older
/// package, and removes it from the cache afterwards.
/// </summary>
[Collection(Training.TorchRandomCollection.Name)]
public sealed class PackageTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ulmfit-packages-").FullName;
    readonly string _version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
    static readonly TimeSpan Minutes10 = TimeSpan.FromMinutes(10);

    // The configuration this test assembly was built in: the library and the CLI are packed from that build.
    static string Configuration => AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";

    static void Succeeds((int ExitCode, string Output) run, string what) =>
        Assert.True(run.ExitCode == 0, $"{what} exited {run.ExitCode}:\n{run.Output}");

    [Fact]
    public void The_quickstart_restored_from_a_local_feed_outside_the_repository_trains_and_predicts_and_the_tool_installs()
    {
        string root = RepositoryPaths.Root, feed = Path.Combine(_dir, "feed");
        foreach (var (project, build) in new[] { ("src/Ulmfit", false), ("src/Ulmfit.Cli", false), ("src/Ulmfit.Models.English", true) })
            Succeeds(ExternalProgram.Run("dotnet", root, Minutes10, ["pack", project, "-c", Configuration, .. build ? Array.Empty<string>() : ["--no-build"],
                $"-p:Version={_version}", "-o", feed, "-v", "q", "-nologo"]), $"dotnet pack {project}");
        string[] packages = [.. Directory.GetFiles(feed, "*.nupkg").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];
        Assert.Equal([$"Ulmfit.{_version}.nupkg", $"Ulmfit.Cli.{_version}.nupkg", $"Ulmfit.Models.English.{_version}.nupkg"], packages);

        // The quickstart and its data, outside the repository; the feed added to the user's package sources
        string app = Path.Combine(_dir, "library-quickstart");
        Copy(Path.Combine(RepositoryPaths.Samples, "library-quickstart"), app);
        Copy(Path.Combine(RepositoryPaths.Samples, "support-tickets"), Path.Combine(_dir, "support-tickets"));
        File.WriteAllText(Path.Combine(app, "nuget.config"),
            $"<configuration><packageSources><add key=\"ulmfit-test-feed\" value=\"{feed}\" /></packageSources></configuration>");
        Succeeds(ExternalProgram.Run("dotnet", app, Minutes10, "build", "-c", "Release", $"-p:UlmfitVersion={_version}", "-v", "q", "-nologo"), "dotnet build (quickstart)");
        var run = ExternalProgram.Run("dotnet", app, Minutes10, "run", "-c", "Release", "--no-build", $"-p:UlmfitVersion={_version}", "--",
            Path.Combine(_dir, "support-tickets"), Path.Combine(_dir, "model"), "--quick");
        Succeeds(run, "the quickstart");
        Assert.Contains("recipe for", run.Output);
        Assert.Contains("I was charged twice for my order this month", run.Output);
        if (File.Exists(Path.Combine(AppContext.BaseDirectory, "libulmfit_native.so"))) // built here, so packed: the app must find it
            Assert.DoesNotContain("is missing", run.Output.Split('\n').Single(l => l.StartsWith("int8 kernel: ", StringComparison.Ordinal)));

        // The tool
        string tools = Path.Combine(_dir, "tools");
        Succeeds(ExternalProgram.Run("dotnet", _dir, Minutes10, "tool", "install", "Ulmfit.Cli", "--version", _version, "--add-source", feed,
            "--tool-path", tools), "dotnet tool install");
        var help = ExternalProgram.Run(Path.Combine(tools, "ulmfit"), _dir, Minutes10, "--help");
        Succeeds(help, "ulmfit --help");
        Assert.Contains("pretrain", help.Output);
    }

    static void Copy(string from, string to)
    {
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(from, file);
            if (relative.Split(Path.DirectorySeparatorChar)[0] is "bin" or "obj") continue;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(to, relative))!);
            File.Copy(file, Path.Combine(to, relative));
        }
    }

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } set ? set
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (string id in new[] { "ulmfit", "ulmfit.cli", "ulmfit.models.english" })
        {
            string folder = Path.Combine(cache, id, _version);
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}
