using System.Security.Cryptography;
using System.Text;

namespace Ulmfit.Data;

/// <summary>SHA-256 of an input's content: of the file's bytes, or of a folder's document file names and contents.</summary>
internal static class InputFingerprint
{
    public static string Compute(string path, CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(path)) return Convert.ToHexStringLower(HashFile(path, cancellationToken));
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (string file in FolderDocumentReader.ListFiles(path))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(Path.GetFileName(file) + "\0"));
            sha.AppendData(HashFile(file, cancellationToken));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    static byte[] HashFile(string file, CancellationToken cancellationToken)
    {
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            byte[] buffer = new byte[1 << 20];
            int n;
            while ((n = stream.Read(buffer)) > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                sha.AppendData(buffer, 0, n);
            }
            return sha.GetHashAndReset();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException(file, null, null, $"cannot read: {e.Message}", e);
        }
    }
}
