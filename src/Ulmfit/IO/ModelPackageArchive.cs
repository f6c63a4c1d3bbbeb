using System.IO.Compression;
using Ulmfit.Data;

namespace Ulmfit.IO;

/// <summary>
/// The single-file form of a model package: a zip (extension <c>.ulmfit</c>) holding exactly <c>model.json</c>,
/// <c>vocab.json</c> and <c>weights.safetensors</c> at its root. Unpacking defends against hostile archives: only those
/// three names are accepted (so no <c>..</c>, absolute paths, links or folders can reach the disk), at most a few
/// entries, per-entry and total size caps, a compression-ratio cap against zip bombs, and the bytes actually
/// decompressed are counted rather than trusting the sizes the archive declares.
/// </summary>
public static class ModelPackageArchive
{
    /// <summary>The conventional extension.</summary>
    public const string Extension = ".ulmfit";

    /// <summary>Most entries an archive may list (it needs three).</summary>
    public const int MaxEntries = 8;

    /// <summary>Largest total of uncompressed bytes accepted.</summary>
    public const long MaxTotalBytes = 64L << 30;

    /// <summary>Largest uncompressed/compressed ratio accepted for an entry bigger than 1 MiB (JSON compresses ~10×).</summary>
    public const int MaxCompressionRatio = 100;

    static readonly string[] Members = [ModelManifest.FileName, VocabularyRecord.DefaultFile, WeightsRecord.DefaultFile];

    static long MaxBytesOf(string name) => name switch
    {
        ModelManifest.FileName => ModelManifestJson.MaxBytes,
        VocabularyRecord.DefaultFile => ModelPackage.MaxVocabularyBytes,
        _ => MaxTotalBytes,
    };

    /// <summary>Zips the package in <paramref name="folder"/> into <paramref name="archivePath"/> (atomically). The
    /// package is validated first (<see cref="ModelPackage.ReadManifest"/>), so a broken package is never packed.</summary>
    public static void Pack(string folder, string archivePath)
    {
        ModelManifest manifest = ModelPackage.ReadManifest(folder);
        AtomicFile.Write(archivePath, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            foreach (string name in Members)
            {
                // Weights are float noise to a compressor: storing them keeps packing and unpacking fast.
                CompressionLevel level = name == WeightsRecord.DefaultFile ? CompressionLevel.NoCompression : CompressionLevel.Optimal;
                ZipArchiveEntry entry = zip.CreateEntry(name, level);
                entry.LastWriteTime = manifest.CreatedUtc.Year >= 1980 ? manifest.CreatedUtc : new DateTimeOffset(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);
                using Stream target = entry.Open();
                using var source = new FileStream(Path.Combine(folder, name), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
                source.CopyTo(target);
            }
        });
    }

    /// <summary>Extracts the archive's three files into <paramref name="folder"/> (created; existing files of those names
    /// are replaced). Throws <see cref="ModelFileException"/> for anything but a well-formed package archive.</summary>
    public static void Unpack(string archivePath, string folder)
    {
        using ZipArchive zip = OpenArchive(archivePath);
        Dictionary<string, ZipArchiveEntry> entries = CheckEntries(zip, archivePath);
        Directory.CreateDirectory(folder);
        foreach (string name in Members)
        {
            ZipArchiveEntry entry = entries[name];
            string source = $"{archivePath}!{name}";
            AtomicFile.Write(Path.Combine(folder, name), target =>
            {
                using Stream input = OpenEntry(entry, source);
                CopyCapped(input, target, entry.Length, source);
            });
        }
    }

    /// <summary>Reads and validates only the manifest of an archive.</summary>
    public static ModelManifest ReadManifest(string archivePath)
    {
        using ZipArchive zip = OpenArchive(archivePath);
        ZipArchiveEntry entry = CheckEntries(zip, archivePath)[ModelManifest.FileName];
        string source = $"{archivePath}!{ModelManifest.FileName}";
        using var buffer = new MemoryStream();
        using (Stream input = OpenEntry(entry, source)) CopyCapped(input, buffer, entry.Length, source);
        return ModelManifest.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), source);
    }

    static ZipArchive OpenArchive(string archivePath)
    {
        FileStream? file = null;
        try
        {
            file = new FileStream(archivePath, FileMode.Open, FileAccess.Read, FileShare.Read);
            return new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: false);
        }
        catch (InvalidDataException e)
        {
            file?.Dispose();
            throw new ModelFileException(archivePath, $"not a model archive (zip): {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            file?.Dispose();
            throw new ModelFileException(archivePath, $"cannot read the archive: {e.Message}", e);
        }
    }

    static Dictionary<string, ZipArchiveEntry> CheckEntries(ZipArchive zip, string archivePath)
    {
        IReadOnlyCollection<ZipArchiveEntry> all;
        try
        {
            all = zip.Entries;
        }
        catch (InvalidDataException e)
        {
            throw new ModelFileException(archivePath, $"corrupt archive directory: {e.Message}", e);
        }
        if (all.Count > MaxEntries) throw new ModelFileException(archivePath, $"archive lists {all.Count} entries; a model package has {Members.Length}");
        var found = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        long total = 0;
        foreach (ZipArchiveEntry entry in all)
        {
            string name = entry.FullName;
            if (!Members.Contains(name, StringComparer.Ordinal))
                throw new ModelFileException(archivePath, $"unexpected archive entry '{SafetensorsDTypes.Shorten(name)}' (a package holds only {string.Join(", ", Members)} at its root)");
            if (!found.TryAdd(name, entry)) throw new ModelFileException(archivePath, $"archive entry '{name}' appears twice");
            if (entry.Length < 0 || entry.Length > MaxBytesOf(name))
                throw new ModelFileException(archivePath, $"archive entry '{name}' declares {entry.Length} bytes, more than the {MaxBytesOf(name)}-byte limit");
            if (entry.Length > (1 << 20) && entry.Length / Math.Max(1, entry.CompressedLength) > MaxCompressionRatio)
                throw new ModelFileException(archivePath, $"archive entry '{name}' expands {entry.Length / Math.Max(1, entry.CompressedLength)}× (a zip bomb?)");
            total += entry.Length;
            if (total > MaxTotalBytes) throw new ModelFileException(archivePath, $"archive holds more than {MaxTotalBytes} bytes");
        }
        foreach (string name in Members)
            if (!found.ContainsKey(name)) throw new ModelFileException(archivePath, $"archive has no '{name}'");
        return found;
    }

    static Stream OpenEntry(ZipArchiveEntry entry, string source)
    {
        try
        {
            return entry.Open();
        }
        catch (Exception e) when (e is InvalidDataException or IOException and not ModelFileException or NotSupportedException)
        {
            throw new ModelFileException(source, $"cannot open archive entry: {e.Message}", e);
        }
    }

    /// <summary>Copies at most <paramref name="declared"/> bytes and fails if the entry holds more or fewer.</summary>
    static void CopyCapped(Stream input, Stream output, long declared, string source)
    {
        byte[] buffer = new byte[1 << 16];
        long copied = 0;
        try
        {
            while (true)
            {
                int read = input.Read(buffer, 0, (int)Math.Min(buffer.Length, declared - copied + 1));
                if (read == 0) break;
                copied += read;
                if (copied > declared) throw new ModelFileException(source, $"archive entry holds more than the {declared} bytes it declares");
                output.Write(buffer, 0, read);
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException and not ModelFileException)
        {
            throw new ModelFileException(source, $"corrupt archive entry: {e.Message}", e);
        }
        if (copied != declared) throw new ModelFileException(source, $"archive entry holds {copied} bytes but declares {declared}");
    }
}
