using Microsoft.Extensions.Logging;

namespace Ulmfit.Cli.Infrastructure;

/// <summary>Shows the library's warnings (and errors) as <c>warning: …</c> lines on stderr; its information messages
/// are left out because the commands print their own progress and summaries.</summary>
internal sealed class WarningLogger(IConsoleOutput output) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel)) output.Info($"warning: {formatter(state, exception)}");
    }
}
