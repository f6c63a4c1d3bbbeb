using System.Security.Cryptography;

namespace Ulmfit.IO;

/// <summary>Whole-file reads with a size cap checked before the buffer is allocated, and file checksums.</summary>
internal static class BoundedFile
{
    /// <summary>The bytes of <paramref name="path"/>; a file larger than <paramref name="maxBytes"/> or one that cannot be
    /// read is a <see cref="ModelFileException"/>.</summary>
    public static byte[] ReadAll(string path, long maxBytes)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (stream.Length > maxBytes) throw new ModelFileException(path, $"{stream.Length} bytes is more than the {maxBytes}-byte limit for this file");
            var bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
            return bytes;
        }
        catch (Exception e) when (e is IOException and not ModelFileException or UnauthorizedAccessException)
        {
            throw new ModelFileException(path, $"cannot read: {e.Message}", e);
        }
    }

    /// <summary>SHA-256 of the file, lower-case hex.</summary>
    public static string Sha256(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
