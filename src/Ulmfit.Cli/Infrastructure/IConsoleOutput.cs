namespace Ulmfit.Cli.Infrastructure;

/// <summary>
/// Where the CLI writes: results to stdout, progress and errors to stderr. An interface so tests can capture what a
/// command shows.
/// </summary>
public interface IConsoleOutput
{
    /// <summary>A result line on stdout.</summary>
    void Result(string line);

    /// <summary>A progress or information line on stderr.</summary>
    void Info(string line);

    /// <summary>A progress line that replaces the previous one on a terminal (stderr).</summary>
    void Status(string line);

    /// <summary>An error line on stderr, prefixed with "ulmfit: error: ".</summary>
    void Error(string line);

    /// <summary>Raw standard input/output for streaming commands (predict --input -).</summary>
    TextReader In { get; }
    TextWriter Out { get; }
}

/// <summary>The real console.</summary>
public sealed class SystemConsoleOutput : IConsoleOutput
{
    readonly object _gate = new();
    bool _statusShown;
    readonly bool _interactive = !Console.IsErrorRedirected;
    DateTime _lastStatus = DateTime.MinValue;

    TextReader? _in;

    // Invalid UTF-8 on stdin is an error naming line and column, as in an input file (Console.In would decode it
    // to U+FFFD silently).
    public TextReader In => _in ??= Ulmfit.Data.DocumentReader.OpenCheckedText(Console.OpenStandardInput(), "stdin");
    public TextWriter Out => Console.Out;

    public void Result(string line)
    {
        lock (_gate) { EndStatus(); Console.Out.WriteLine(line); }
    }

    public void Info(string line)
    {
        lock (_gate) { EndStatus(); Console.Error.WriteLine(line); }
    }

    public void Status(string line)
    {
        lock (_gate)
        {
            if (_interactive)
            {
                Console.Error.Write("\r" + line.PadRight(Math.Min(Console.WindowWidth > 0 ? Console.WindowWidth - 1 : 100, 160)));
                _statusShown = true;
            }
            else if (DateTime.UtcNow - _lastStatus > TimeSpan.FromSeconds(10))
            {
                // Logs (CI, nohup) get a line every 10 s rather than a flood.
                Console.Error.WriteLine(line);
                _lastStatus = DateTime.UtcNow;
            }
        }
    }

    public void Error(string line)
    {
        lock (_gate) { EndStatus(); Console.Error.WriteLine("ulmfit: error: " + line); }
    }

    void EndStatus()
    {
        if (!_statusShown) return;
        Console.Error.WriteLine();
        _statusShown = false;
    }
}
