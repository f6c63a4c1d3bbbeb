namespace Ulmfit;

/// <summary>
/// Input that cannot be used as given: a malformed file, a missing column, an impossible option value.
/// The message is one line and names the place (<c>file:line:column: what is wrong</c>) so users can fix it.
/// </summary>
public class InvalidInputException : Exception
{
    public InvalidInputException(string message) : base(message) { }

    public InvalidInputException(string filePath, long line, long column, string problem, Exception? inner = null)
        : base(FormatPlace(filePath, line, column) + problem, inner)
    {
        FilePath = filePath;
        Line = line;
        Column = column;
    }

    /// <summary>The file at fault, when there is one.</summary>
    public string? FilePath { get; }

    /// <summary>1-based line (0 when unknown).</summary>
    public long Line { get; }

    /// <summary>1-based column (0 when unknown).</summary>
    public long Column { get; }

    static string FormatPlace(string filePath, long line, long column) =>
        line <= 0 ? $"{filePath}: " : column <= 0 ? $"{filePath}:{line}: " : $"{filePath}:{line}:{column}: ";
}
