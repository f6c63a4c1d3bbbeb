using System.Diagnostics;
using System.Text.Json;
using Ulmfit.Engine;

namespace Ulmfit.Tests.Cli;

public class AllocatorRestartTests
{
    const string Jemalloc = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";

    static Func<string, string?> Environment(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void With_jemalloc_installed_the_plan_preloads_it_never_purges_and_marks_the_restart()
    {
        var plan = NativeAllocator.RestartPlan(Environment(), path => path == Jemalloc)!;
        Assert.Equal(Jemalloc, plan["LD_PRELOAD"]);
        Assert.Equal(NativeAllocator.MallocConf, plan["MALLOC_CONF"]);
        Assert.Equal("jemalloc", plan[NativeAllocator.SwitchVariable]);
    }

    [Fact]
    public void A_users_preload_and_malloc_settings_are_kept()
    {
        var plan = NativeAllocator.RestartPlan(Environment(("LD_PRELOAD", "/opt/trace.so"), ("MALLOC_CONF", "narenas:2")), path => path == Jemalloc)!;
        Assert.Equal($"{Jemalloc}:/opt/trace.so", plan["LD_PRELOAD"]);
        Assert.Equal("narenas:2", plan["MALLOC_CONF"]);
    }

    [Fact]
    public void No_restart_when_switched_off_already_restarted_preloaded_by_the_user_or_not_installed()
    {
        Assert.Null(NativeAllocator.RestartPlan(Environment((NativeAllocator.SwitchVariable, "system")), _ => true));
        Assert.Null(NativeAllocator.RestartPlan(Environment((NativeAllocator.SwitchVariable, "jemalloc")), _ => true));
        Assert.Null(NativeAllocator.RestartPlan(Environment(("LD_PRELOAD", "/usr/local/lib/libjemalloc.so")), _ => true));
        Assert.Null(NativeAllocator.RestartPlan(Environment(), _ => false));
    }

    /// <summary>Runs the built CLI as its own process: the restart happens only in its Main.</summary>
    static (int ExitCode, string Stdout, string Stderr) RunCli(string? allocatorSwitch, params string[] arguments)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "Ulmfit.Cli"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string a in arguments) start.ArgumentList.Add(a);
        start.Environment.Remove(NativeAllocator.SwitchVariable);
        start.Environment.Remove("LD_PRELOAD");
        if (allocatorSwitch != null) start.Environment[NativeAllocator.SwitchVariable] = allocatorSwitch;
        using var process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync(), error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("the CLI did not finish in 120 s");
        }
        return (process.ExitCode, output.Result, error.Result);
    }

    static readonly string[] TinyBench =
        ["bench", "--mode", "clf-infer", "--vocab", "50", "--emb", "8", "--hidden", "8", "--layers", "1", "--bs", "2", "--seq-len", "4",
         "--steps", "1", "--warmup", "1", "--threads", "1", "--dtype", "fp32"];

    [SkippableFact]
    public void The_cli_runs_under_jemalloc_when_installed_and_under_the_system_allocator_when_told()
    {
        Skip.IfNot(OperatingSystem.IsLinux() && NativeAllocator.JemallocPaths.Any(File.Exists), "jemalloc is not installed (apt-get install libjemalloc2)");
        string Allocator(string stdout) => JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement.GetProperty("allocator").GetString()!;

        var restarted = RunCli(null, TinyBench);
        Assert.True(restarted.ExitCode == 0, restarted.Stderr);
        Assert.Equal("jemalloc", Allocator(restarted.Stdout));

        var system = RunCli("system", TinyBench);
        Assert.True(system.ExitCode == 0, system.Stderr);
        Assert.Equal("system", Allocator(system.Stdout));

        // The restarted process keeps the contract: a bad option is one line on stderr and exit code 2.
        var bad = RunCli(null, "bench", "--mode", "nonsense");
        Assert.Equal(2, bad.ExitCode);
        Assert.Single(bad.Stderr.Trim().Split('\n'));
    }
}
