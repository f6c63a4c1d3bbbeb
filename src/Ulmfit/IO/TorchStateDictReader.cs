using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;
using System.Text;

namespace Ulmfit.IO;

/// <summary>
/// Reads PyTorch state-dict files (<c>torch.save(model.state_dict())</c>) without Python and without running any of the
/// file: the pickle goes through <see cref="RestrictedUnpickler"/> with the <see cref="TorchPickleResolver"/> allow-list.
/// Both layouts are read:
/// <list type="bullet">
/// <item>zip (PyTorch ≥ 1.6): <c>PREFIX/data.pkl</c> plus one uncompressed entry <c>PREFIX/data/KEY</c> per storage;</item>
/// <item>legacy: five pickles in a row — magic number, protocol version 1001, system info, the object, the list of
/// storage keys — then each storage as an 8-byte little-endian element count followed by its raw data.</item>
/// </list>
/// A <c>{'model': state_dict, …}</c> wrapper (fastai learner saves) is unwrapped. Every size is checked against the
/// file before it is allocated; anything unexpected is a <see cref="ModelFileException"/>.
/// </summary>
public static class TorchStateDictReader
{
    /// <summary>Most entries a zip-format file may have.</summary>
    public const int MaxZipEntries = 100_000;

    static readonly BigInteger LegacyMagic = BigInteger.Parse("119547037146038801333356", System.Globalization.CultureInfo.InvariantCulture);
    const long LegacyProtocolVersion = 1001;

    /// <summary>Reads the state dict in <paramref name="path"/>.</summary>
    public static TorchStateDict Read(string path, PickleLimits? limits = null)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException(path, $"cannot open: {e.Message}", e);
        }
        using (file) return Read(file, path, limits);
    }

    /// <summary>Reads a state dict from a seekable <paramref name="stream"/>; <paramref name="source"/> names it in errors.</summary>
    public static TorchStateDict Read(Stream stream, string source, PickleLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek || !stream.CanRead) throw new ArgumentException("The stream must be readable and seekable.", nameof(stream));
        limits ??= PickleLimits.Default;
        limits.Validate();
        Span<byte> head = stackalloc byte[4];
        stream.Position = 0;
        int got = stream.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        stream.Position = 0;
        if (got >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return ReadZip(stream, source, limits);
        if (got >= 2 && head[0] == 0x80) return ReadLegacy(stream, source, limits);
        if (LooksLikeTar(stream)) throw new ModelFileException(source, "this is PyTorch's pre-1.0 tar format, which is not supported; re-save it with a newer PyTorch");
        throw new ModelFileException(source, 0, "not a PyTorch file (neither the zip format nor the legacy pickle format)");
    }

    static TorchStateDict ReadZip(Stream stream, string source, PickleLimits limits)
    {
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new ModelFileException(source, $"corrupt zip-format PyTorch file: {e.Message}", e);
        }
        using (zip)
        {
            IReadOnlyCollection<ZipArchiveEntry> entries;
            try { entries = zip.Entries; }
            catch (InvalidDataException e) { throw new ModelFileException(source, $"corrupt zip directory: {e.Message}", e); }
            if (entries.Count > MaxZipEntries) throw new ModelFileException(source, $"zip lists {entries.Count} entries, more than {MaxZipEntries}");
            var pickles = entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.IndexOf('/') == e.FullName.Length - 9).ToList();
            if (pickles.Count != 1)
                throw new ModelFileException(source, pickles.Count == 0 ? "zip has no PREFIX/data.pkl: not a PyTorch file" : "zip has more than one data.pkl");
            string prefix = pickles[0].FullName[..^"data.pkl".Length];
            if (zip.GetEntry(prefix + "byteorder") is { } order && ReadEntry(order, source + "!byteorder", 16) is var bytes && Encoding.ASCII.GetString(bytes) != "little")
                throw new ModelFileException(source, "the file was written on a big-endian machine, which is not supported");

            byte[] pickle = ReadEntry(pickles[0], $"{source}!{pickles[0].FullName}", limits.MaxPickleBytes);
            var resolver = new TorchPickleResolver(limits);
            object? root;
            using (var pickleStream = new MemoryStream(pickle, writable: false))
                root = new RestrictedUnpickler(pickleStream, $"{source}!{pickles[0].FullName}", resolver, limits).Load();
            TorchStateDict result = Collect(root, source, "zip");
            // Only the state dict's storages are read: a wrapped save's optimizer state can be twice the model's size.
            foreach (TorchStorage storage in UsedStorages(result))
            {
                string name = prefix + "data/" + storage.Key;
                ZipArchiveEntry entry = zip.GetEntry(name) ?? throw new ModelFileException(source, $"zip has no entry '{name}' for storage '{storage.Key}'");
                if (entry.Length != storage.ByteLength)
                    throw new ModelFileException(source, $"storage '{storage.Key}' should be {storage.ByteLength} bytes ({storage.ElementCount} × {storage.DType.Name()}) but its entry holds {entry.Length}");
                storage.Data = ReadEntry(entry, $"{source}!{name}", storage.ByteLength);
            }
            return result;
        }
    }

    /// <summary>Reads a whole entry, which must be stored uncompressed (as PyTorch writes them) so that its size is
    /// bounded by the file's, and no larger than <paramref name="maxBytes"/>.</summary>
    static byte[] ReadEntry(ZipArchiveEntry entry, string source, long maxBytes)
    {
        if (entry.Length > maxBytes) throw new ModelFileException(source, $"entry is {entry.Length} bytes, more than the {maxBytes}-byte limit");
        if (entry.CompressedLength != entry.Length) throw new ModelFileException(source, "entry is compressed; PyTorch stores entries uncompressed (tampered file?)");
        var bytes = new byte[entry.Length];
        try
        {
            using Stream input = entry.Open();
            input.ReadExactly(bytes);
            if (input.ReadByte() >= 0) throw new ModelFileException(source, "entry holds more bytes than it declares");
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException and not ModelFileException or NotSupportedException)
        {
            throw new ModelFileException(source, $"corrupt zip entry: {e.Message}", e);
        }
        return bytes;
    }

    static TorchStateDict ReadLegacy(Stream stream, string source, PickleLimits limits)
    {
        object? magic = Next(stream, source, limits, null);
        if (!(magic is BigInteger m && m == LegacyMagic))
            throw new ModelFileException(source, 0, "not a PyTorch file (the legacy format's magic number is missing)");
        long at = stream.Position;
        if (Next(stream, source, limits, null) is not long version || version != LegacyProtocolVersion)
            throw new ModelFileException(source, at, $"unsupported legacy protocol version (expected {LegacyProtocolVersion})");
        at = stream.Position;
        if (Next(stream, source, limits, null) is not PickleDict info)
            throw new ModelFileException(source, at, "the system-info record is not a dict");
        if (info.TryGetValue("little_endian", out object? little) && little is not true)
            throw new ModelFileException(source, at, "the file was written on a big-endian machine, which is not supported");

        var resolver = new TorchPickleResolver(limits);
        object? root = Next(stream, source, limits, resolver);
        at = stream.Position;
        if (Next(stream, source, limits, null) is not PickleList keys)
            throw new ModelFileException(source, at, "the storage key list is missing or not a list");

        TorchStateDict result = Collect(root, source, "legacy");
        HashSet<TorchStorage> used = UsedStorages(result);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        Span<byte> count = stackalloc byte[8];
        foreach (object? item in keys.Values)
        {
            at = stream.Position;
            if (item is not string key || !resolver.Storages.TryGetValue(key, out TorchStorage? storage))
                throw new ModelFileException(source, at, $"storage key list names '{item}', which no tensor uses");
            if (!seen.Add(key)) throw new ModelFileException(source, at, $"storage '{key}' is listed twice");
            if (stream.Length - stream.Position < 8) throw new ModelFileException(source, at, $"file ends before storage '{key}' (truncated)");
            stream.ReadExactly(count);
            long elements = BinaryPrimitives.ReadInt64LittleEndian(count);
            if (elements != storage.ElementCount)
                throw new ModelFileException(source, at, $"storage '{key}' holds {elements} elements but its tensors were saved with {storage.ElementCount}");
            if (stream.Length - stream.Position < storage.ByteLength)
                throw new ModelFileException(source, at, $"file ends inside storage '{key}' ({storage.ByteLength} bytes needed, {stream.Length - stream.Position} left): truncated");
            if (!used.Contains(storage))
            {
                stream.Seek(storage.ByteLength, SeekOrigin.Current); // optimizer state: checked, not read
                continue;
            }
            var data = new byte[storage.ByteLength];
            stream.ReadExactly(data);
            storage.Data = data;
        }
        string? unlisted = resolver.Storages.Keys.FirstOrDefault(k => !seen.Contains(k));
        if (unlisted is not null) throw new ModelFileException(source, $"storage '{unlisted}' is used by a tensor but its data is not in the file");
        if (stream.Position != stream.Length)
            throw new ModelFileException(source, stream.Position, $"{stream.Length - stream.Position} unexpected bytes after the last storage");
        return result;
    }

    static HashSet<TorchStorage> UsedStorages(TorchStateDict stateDict) => [.. stateDict.Tensors.Values.Select(t => t.Storage)];

    static object? Next(Stream stream, string source, PickleLimits limits, IPickleResolver? resolver) =>
        new RestrictedUnpickler(stream, source, resolver ?? DataOnlyResolver.NoGlobals, limits).Load();

    /// <summary>The tensors of the (possibly wrapped) state dict.</summary>
    static TorchStateDict Collect(object? root, string source, string format)
    {
        if (root is not PickleDict top) throw new ModelFileException(source, $"the file holds a {PickleTypeNames.Of(root)}, not a state dict");
        PickleDict state = top;
        bool wrapped = false;
        var otherTop = new List<string>();
        if (top.TryGetValue("model", out object? inner))
        {
            if (inner is not PickleDict model) throw new ModelFileException(source, $"'model' holds a {PickleTypeNames.Of(inner)}, not a state dict");
            state = model;
            wrapped = true;
            otherTop.AddRange(top.Entries.Select(e => e.Key as string ?? PickleTypeNames.Of(e.Key)).Where(k => k != "model"));
        }
        var tensors = new List<KeyValuePair<string, TorchTensorRecord>>();
        var nonTensors = new List<string>();
        foreach ((object? key, object? value) in state.Entries)
        {
            if (key is not string name) throw new ModelFileException(source, $"state-dict key {PickleTypeNames.Of(key)} is not a string");
            if (value is TorchTensorRecord record) tensors.Add(new(name, record));
            else nonTensors.Add(name);
        }
        if (tensors.Count == 0) throw new ModelFileException(source, "the state dict holds no tensors");
        return new TorchStateDict(source, format, wrapped, tensors, nonTensors, otherTop);
    }

    static bool LooksLikeTar(Stream stream)
    {
        if (stream.Length < 262) return false;
        Span<byte> magic = stackalloc byte[5];
        stream.Position = 257;
        stream.ReadExactly(magic);
        stream.Position = 0;
        return magic.SequenceEqual("ustar"u8);
    }
}
