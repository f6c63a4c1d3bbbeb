using System.CommandLine;
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
        if (Problem(path) is { } problem) throw new OptionException($"{option} {path}: {problem}");
    }

    /// <summary>Makes <paramref name="option"/> (an output folder) refuse, when parsed, a path that is an existing file
    /// or lies under one, instead of failing later on a file inside it.</summary>
    public static Option<string> AsFolder(this Option<string> option)
    {
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count == 0) return;
            string full = Path.GetFullPath(result.Tokens[0].Value);
            for (string? p = full; p != null && !Directory.Exists(p); p = Path.GetDirectoryName(p))
                if (File.Exists(p))
                {
                    result.AddError(p == full ? $"{option.Name} {result.Tokens[0].Value} is a file; give a folder (new or existing)"
                        : $"{option.Name} {result.Tokens[0].Value}: '{p}' is a file, not a folder");
                    return;
                }
        });
        return option;
    }

    /// <summary>Why <paramref name="path"/> cannot be written (its folders are created as needed), or null when it can.</summary>
    public static string? Problem(string path)
    {
        string full = Path.GetFullPath(path);
        var kind = FileKinds.Of(full);
        if (kind == FileKind.Directory) return "is a folder, not a file";
        if (kind == FileKind.Special) return null; // a device or FIFO is written in place
        string? folder = Path.GetDirectoryName(full);
        while (folder != null && !Directory.Exists(folder))
        {
            if (File.Exists(folder)) return $"'{folder}' is a file, not a folder";
            folder = Path.GetDirectoryName(folder);
        }
        if (folder == null) return "no folder of it exists";
        return CanCreateFileIn(folder) ? null : $"cannot write in '{folder}' (read-only or no permission)";
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
