namespace Ulmfit.IO;

/// <summary>
/// A model file (package manifest, safetensors weights, vocabulary, <c>.ulmfit</c> archive, PyTorch <c>.pth</c> or
/// pickle) that is corrupt, hostile, or does not match what it claims to be. Every validation failure of the readers
/// in <see cref="Ulmfit.IO"/> is one of these; the message is one line, <c>path: byte N: problem</c> (the byte offset
/// only when it is known), so a user can see what to fix or which file to re-download. It derives from
/// <see cref="IOException"/> (<see cref="InvalidDataException"/> is sealed), so callers that already report I/O
/// failures report these too.
/// </summary>
public sealed class ModelFileException : IOException
{
    /// <summary>Creates the exception; <paramref name="problem"/> is the text after the location.</summary>
    public ModelFileException(string filePath, long? offset, string problem, Exception? innerException = null)
        : base(Format(filePath, offset, problem), innerException)
    {
        FilePath = filePath;
        Offset = offset;
        Problem = problem;
    }

    /// <summary>Creates the exception without a byte offset.</summary>
    public ModelFileException(string filePath, string problem, Exception? innerException = null)
        : this(filePath, null, problem, innerException) { }

    /// <summary>The file (or package folder, or archive entry) as the user named it.</summary>
    public string FilePath { get; }

    /// <summary>Byte offset in the file where the problem was found, when known.</summary>
    public long? Offset { get; }

    /// <summary>The message without the location prefix.</summary>
    public string Problem { get; }

    static string Format(string filePath, long? offset, string problem)
    {
        string location = offset is { } o ? $"{filePath}: byte {o}" : filePath;
        return $"{location}: {problem.ReplaceLineEndings(" ")}";
    }
}
