using System.IO.Compression;
using System.Text;

namespace Ulmfit.Tests.Data;

/// <summary>A scratch folder for one test, deleted afterwards.</summary>
sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Root = Path.Combine(Path.GetTempPath(), "ulmfit-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string PathOf(string name) => Path.Combine(Root, name);

    /// <summary>Writes UTF-8 text (no BOM), gzip-compressed when the name ends in .gz.</summary>
    public string Write(string name, string text) => WriteBytes(name, new UTF8Encoding(false).GetBytes(text));

    public string WriteBytes(string name, byte[] bytes)
    {
        string path = PathOf(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (name.EndsWith(".gz", StringComparison.Ordinal))
        {
            using var file = File.Create(path);
            using var gzip = new GZipStream(file, CompressionLevel.Fastest);
            gzip.Write(bytes);
        }
        else
        {
            File.WriteAllBytes(path, bytes);
        }
        return path;
    }

    /// <summary>Every file below <paramref name="folder"/> (hidden temporary files included).</summary>
    public static string[] FilesIn(string folder) =>
        Directory.Exists(folder) ? Directory.GetFiles(folder, "*", SearchOption.AllDirectories) : [];

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>Finds the read-only shared data (../shared next to the repository root).</summary>
static class SharedData
{
    public static string? Folder { get; } = Locate();

    static string? Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "Ulmfit.slnx"))) continue;
            string shared = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
            return Directory.Exists(shared) ? shared : null;
        }
        return null;
    }

    public static string PathOf(string relative) => Path.Combine(Folder!, relative);
}
