using System.Globalization;

namespace Ulmfit.Training;

/// <summary>
/// A folder of checkpoints, each a sub-folder <c>step-NNNNNNNNNNNN</c> holding tensor files and a
/// <c>manifest.json</c>. A checkpoint is written into a hidden temporary folder and renamed into place only when
/// complete, so a crash never leaves a half-written checkpoint where a resume would find it. The newest
/// <see cref="Keep"/> checkpoints are kept.
/// </summary>
/// <remarks>One writer per folder at a time.</remarks>
public sealed class CheckpointStore
{
    /// <summary>Name of the manifest inside each checkpoint folder.</summary>
    public const string ManifestFile = "manifest.json";

    const string Prefix = "step-";
    const string IncomingPrefix = ".incoming-";
    const string TrashPrefix = ".trash-";

    /// <summary>Uses (and creates when first saving) <paramref name="directory"/>.</summary>
    public CheckpointStore(string directory, int keep = 2)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(keep);
        Directory = Path.GetFullPath(directory);
        Keep = keep;
    }

    /// <summary>The folder holding the checkpoints.</summary>
    public string Directory { get; }

    /// <summary>How many of the newest checkpoints survive a save.</summary>
    public int Keep { get; }

    /// <summary>The newest complete checkpoint folder, or null when there is none.</summary>
    public string? FindLatest() => CompleteCheckpoints().LastOrDefault().Path;

    /// <summary>Every complete checkpoint folder, oldest first.</summary>
    public IReadOnlyList<string> FindAll() => [.. CompleteCheckpoints().Select(c => c.Path)];

    /// <summary>Writes a checkpoint for <paramref name="step"/>: <paramref name="writeFiles"/> fills a temporary folder
    /// (given as its argument) with the tensor files, then the manifest is written and the folder renamed into place.
    /// A checkpoint already stored for the same step is replaced. Returns the final folder.</summary>
    public string Save(long step, CheckpointManifest manifest, Action<string> writeFiles)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(writeFiles);
        System.IO.Directory.CreateDirectory(Directory);
        RemoveLeftovers();

        string incoming = Path.Combine(Directory, IncomingPrefix + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(incoming);
        try
        {
            writeFiles(incoming);
            // On disk before the manifest that vouches for them and the rename that publishes them, so a power cut
            // cannot leave a published checkpoint whose tensor files are cut short.
            foreach (string file in System.IO.Directory.EnumerateFiles(incoming)) FlushToDisk(file);
            WriteDurably(Path.Combine(incoming, ManifestFile), manifest.ToJson());
        }
        catch
        {
            TryDelete(incoming);
            throw;
        }

        string final = Path.Combine(Directory, Prefix + step.ToString("D12", CultureInfo.InvariantCulture));
        if (System.IO.Directory.Exists(final))
        {
            // Same step saved twice (a timed save right before the epoch-end save): swap, never leaving neither.
            string trash = Path.Combine(Directory, TrashPrefix + Guid.NewGuid().ToString("N"));
            System.IO.Directory.Move(final, trash);
            System.IO.Directory.Move(incoming, final);
            TryDelete(trash);
        }
        else
        {
            System.IO.Directory.Move(incoming, final);
        }
        Prune();
        return final;
    }

    /// <summary>Reads the manifest of checkpoint folder <paramref name="checkpoint"/>.</summary>
    public static CheckpointManifest ReadManifest(string checkpoint)
    {
        string path = Path.Combine(checkpoint, ManifestFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: checkpoint manifest not found", path);
        return CheckpointManifest.FromJson(File.ReadAllText(path), path);
    }

    IEnumerable<(long Step, string Path)> CompleteCheckpoints()
    {
        if (!System.IO.Directory.Exists(Directory)) return [];
        return System.IO.Directory.EnumerateDirectories(Directory, Prefix + "*")
            .Select(path => (Ok: long.TryParse(Path.GetFileName(path).AsSpan(Prefix.Length), NumberStyles.None,
                CultureInfo.InvariantCulture, out long step), Step: step, Path: path))
            .Where(c => c.Ok && File.Exists(Path.Combine(c.Path, ManifestFile)))
            .Select(c => (c.Step, c.Path))
            .OrderBy(c => c.Step)
            .ToList();
    }

    void Prune()
    {
        var all = CompleteCheckpoints().ToList();
        foreach (var (_, path) in all.Take(Math.Max(0, all.Count - Keep))) TryDelete(path);
    }

    void RemoveLeftovers()
    {
        foreach (string prefix in new[] { IncomingPrefix, TrashPrefix })
            foreach (string path in System.IO.Directory.EnumerateDirectories(Directory, prefix + "*"))
                TryDelete(path);
    }

    static void WriteDurably(string path, string text)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        using (var writer = new StreamWriter(stream, leaveOpen: true)) writer.Write(text);
        stream.Flush(flushToDisk: true);
    }

    static void FlushToDisk(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Flush(flushToDisk: true);
    }

    static void TryDelete(string path)
    {
        try { System.IO.Directory.Delete(path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
