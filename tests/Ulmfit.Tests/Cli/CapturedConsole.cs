using Ulmfit.Cli.Infrastructure;

namespace Ulmfit.Tests.Cli;

/// <summary>Records what a command shows, so tests can assert on stdout/stderr lines.</summary>
internal sealed class CapturedConsole(string stdin = "") : IConsoleOutput
{
    public List<string> Results { get; } = [];
    public List<string> Infos { get; } = [];
    public List<string> Errors { get; } = [];
    public StringWriter Stdout { get; } = new();

    public TextReader In { get; } = new StringReader(stdin);
    public TextWriter Out => Stdout;

    public void Result(string line) { lock (Results) Results.Add(line); }
    public void Info(string line) { lock (Infos) Infos.Add(line); }
    public void Status(string line) { lock (Infos) Infos.Add(line); }
    public void Error(string line) { lock (Errors) Errors.Add(line); }
}
