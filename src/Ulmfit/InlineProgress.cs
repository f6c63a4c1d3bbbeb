namespace Ulmfit;

/// <summary>An <see cref="IProgress{T}"/> that reports on the caller's thread at once. <see cref="Progress{T}"/> posts
/// to a synchronisation context, which in a console or a pipeline reorders and delays reports; relaying one kind of
/// progress into another (a stage's into the whole run's) wants this instead.</summary>
public sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
