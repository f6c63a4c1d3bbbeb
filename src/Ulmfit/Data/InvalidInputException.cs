namespace Ulmfit.Data;

/// <summary>
/// Input that cannot be used as it is (bad encoding, missing column, malformed CSV, corrupt store...).
/// The message is one line in the compiler style <c>path:line:column: problem</c>, leaving out the parts
/// that are not known, so a user can jump straight to the spot.
/// </summary>
public sealed class InvalidInputException : Exception
{
    /// <summary>Creates the exception; <paramref name="problem"/> is the text after the location.</summary>
    public InvalidInputException(string filePath, long? line, int? column, string problem, Exception? innerException = null)
        : base(Format(filePath, line, column, problem), innerException)
    {
        FilePath = filePath;
        Line = line;
        Column = column;
        Problem = problem;
    }

    /// <summary>The file (or folder) as the user named it.</summary>
    public string FilePath { get; }

    /// <summary>1-based line, when the problem has one.</summary>
    public long? Line { get; }

    /// <summary>1-based column in characters (Unicode scalar values) within <see cref="Line"/>, when known.</summary>
    public int? Column { get; }

    /// <summary>The message without the location prefix.</summary>
    public string Problem { get; }

    static string Format(string filePath, long? line, int? column, string problem)
    {
        string location = filePath;
        if (line is { } l)
        {
            location += $":{l}";
            if (column is { } c) location += $":{c}";
        }
        // Keep the message on one line even when a problem quotes input text.
        return $"{location}: {problem.ReplaceLineEndings(" ")}";
    }
}
