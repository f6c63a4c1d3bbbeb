using Ulmfit.Cli;
using Ulmfit.Cli.Infrastructure;

namespace Ulmfit.Tests.Cli;

public class CommandLineContractTests
{
    [Fact]
    public void Unknown_command_gives_one_error_line_and_exit_code_2()
    {
        var console = new CapturedConsole();
        int code = CliApp.Run(["no-such-command"], console);
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Single(console.Errors);
        Assert.Contains("no-such-command", console.Errors[0]);
    }

    [Fact]
    public void Summary_file_is_written_atomically_with_snake_case_keys_and_numbers()
    {
        string dir = Directory.CreateTempSubdirectory("ulmfit-json-").FullName;
        string path = Path.Combine(dir, "sub", "summary.json");
        CommandRunner.WriteSummary(path, new CommandSummary { ["tokens_per_s"] = 12.5, ["documents"] = 3 });
        string text = File.ReadAllText(path);
        Assert.Contains("\"tokens_per_s\": 12.5", text);
        Assert.Contains("\"documents\": 3", text);
        Assert.False(File.Exists(path + ".tmp"));
        Directory.Delete(dir, true);
    }
}
