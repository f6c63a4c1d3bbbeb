namespace Ulmfit.Data;

/// <summary>
/// Writes a file so that readers see either the old file or the complete new one, never a half-written one:
/// everything goes to a temporary file in the same folder, which <see cref="Commit"/> renames over the target.
/// Disposing without committing deletes the temporary file.
/// </summary>
internal sealed class AtomicFile : IDisposable
{
    bool committed;

    public AtomicFile(string path)
    {
        FinalPath = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(FinalPath)!;
        Directory.CreateDirectory(folder);
        // Same folder, so the rename stays on one file system and is atomic.
        TempPath = Path.Combine(folder, $".{Path.GetFileName(FinalPath)}.{Guid.NewGuid():N}.tmp");
    }

    public string FinalPath { get; }
    public string TempPath { get; }

    /// <summary>Creates the temporary file (read-write, so a writer can seek back to fill in a header).</summary>
    public FileStream Create(int bufferSize = 1 << 20) =>
        new(TempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize);

    /// <summary>Renames the (closed) temporary file over the target.</summary>
    public void Commit()
    {
        File.Move(TempPath, FinalPath, overwrite: true);
        committed = true;
    }

    public void Dispose()
    {
        if (committed) return;
        try { File.Delete(TempPath); }
        catch (IOException) { } // best effort: never hide the exception that brought us here
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Writes <paramref name="write"/>'s output to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        using var file = new AtomicFile(path);
        using (FileStream stream = file.Create())
        {
            write(stream);
            stream.Flush(flushToDisk: true);
        }
        file.Commit();
    }
}
