using Ulmfit.Data;

namespace Ulmfit.Cli.Infrastructure;

/// <summary>
/// Checks, before any work, that an output file can be written: its nearest existing folder accepts a new file and
/// the path is not a folder. A run of hours should not end with "cannot write --json".
/// </summary>
internal static class OutputPath
{
    /// <summary>Throws <see cref="OptionException"/> naming <paramref name="option"/> when <paramref name="path"/> cannot be written.</summary>
    public static void CheckWritable(string path, string option)
    {
        string full = Path.GetFullPath(path);
        var kind = FileKinds.Of(full);
        if (kind == FileKind.Directory) throw new OptionException($"{option} {path}: is a folder, not a file");
        if (kind == FileKind.Special) return; // a device or FIFO is written in place
        string? folder = Path.GetDirectoryName(full);
        while (folder != null && !Directory.Exists(folder))
        {
            if (File.Exists(folder)) throw new OptionException($"{option} {path}: '{folder}' is a file, not a folder");
            folder = Path.GetDirectoryName(folder);
        }
        if (folder == null) throw new OptionException($"{option} {path}: no folder of it exists");
        if (!CanCreateFileIn(folder)) throw new OptionException($"{option} {path}: cannot write in '{folder}' (read-only or no permission)");
    }

    /// <summary>Whether a new file can be created in <paramref name="folder"/> (tried, then removed).</summary>
    public static bool CanCreateFileIn(string folder)
    {
        try
        {
            using var probe = new FileStream(Path.Combine(folder, $".ulmfit-write-check.{Guid.NewGuid():N}"), FileMode.CreateNew,
                FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
