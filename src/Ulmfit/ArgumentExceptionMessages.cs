namespace Ulmfit;

/// <summary>The user-facing text of the library's <see cref="ArgumentException"/>s.</summary>
public static class ArgumentExceptionMessages
{
    /// <summary>The message without the " (Parameter 'x')" that <see cref="ArgumentException"/> appends when it names a
    /// parameter: a command line has options, not C# parameters.</summary>
    public static string WithoutParameterName(this ArgumentException e) =>
        e.ParamName is { } name ? e.Message.Replace($" (Parameter '{name}')", "") : e.Message;
}
