namespace Ulmfit.Cli.Infrastructure;

/// <summary>An <see cref="IProgress{T}"/> that reports on the caller's thread at once (Progress&lt;T&gt; posts to a
/// synchronisation context, which reorders and delays lines in a console app).</summary>
public sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
