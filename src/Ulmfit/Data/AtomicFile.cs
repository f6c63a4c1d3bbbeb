namespace Ulmfit.Data;

/// <summary>
/// Writes a file so that readers see either the old file or the complete new one, never a half-written one:
/// everything goes to a temporary file with a unique name in the same folder, which <see cref="Commit"/> renames over
/// the target. Disposing without committing deletes the temporary file. A symbolic link keeps pointing where it did
/// (the file it points to is the one replaced); a special file (a device such as /dev/stdout, a FIFO) is written in
/// place, since renaming over it would replace the device with a regular file.
/// </summary>
public sealed class AtomicFile : IDisposable
{
    bool committed;

    public AtomicFile(string path)
    {
        string full = Path.GetFullPath(path);
        if (new FileInfo(full).LinkTarget != null && File.ResolveLinkTarget(full, returnFinalTarget: true) is { } target)
            full = target.FullName;
        FinalPath = full;
        Kind = FileKinds.Of(FinalPath);
        if (Kind == FileKind.Directory) throw new IOException($"{path}: is a folder, not a file");
        if (Kind == FileKind.Special) return;
        string folder = Path.GetDirectoryName(FinalPath)!;
        Directory.CreateDirectory(folder);
        // Same folder, so the rename stays on one file system and is atomic; a unique name, so no user file is hit.
        TempPath = Path.Combine(folder, $".{Path.GetFileName(FinalPath)}.{Guid.NewGuid():N}.tmp");
    }

    /// <summary>The file that ends up written (a link's target, not the link).</summary>
    public string FinalPath { get; }
    /// <summary>The temporary file, or null when a special file is written in place.</summary>
    public string? TempPath { get; }
    /// <summary>What <see cref="FinalPath"/> was before writing.</summary>
    public FileKind Kind { get; }

    /// <summary>Creates the temporary file (read-write, so a writer can seek back to fill in a header), or opens the
    /// special file for writing.</summary>
    public FileStream Create(int bufferSize = 1 << 20) => TempPath is null
        ? new(FinalPath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize)
        : new(TempPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize);

    /// <summary>Renames the (closed) temporary file over the target.</summary>
    public void Commit()
    {
        if (TempPath is not null) File.Move(TempPath, FinalPath, overwrite: true);
        committed = true;
    }

    public void Dispose()
    {
        if (committed || TempPath is null) return;
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
            stream.Flush(flushToDisk: file.TempPath is not null);
        }
        file.Commit();
    }

    /// <summary>Writes <paramref name="text"/> (UTF-8, no byte order mark) to <paramref name="path"/> atomically.</summary>
    public static void WriteText(string path, string text) =>
        Write(path, stream => stream.Write(new System.Text.UTF8Encoding(false).GetBytes(text)));
}
