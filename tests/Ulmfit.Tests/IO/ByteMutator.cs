using System.Buffers.Binary;
using System.Text;

namespace Ulmfit.Tests.IO;

/// <summary>
/// Damages a valid file the ways corrupt downloads and hostile authors do: truncation, bit flips, interesting bytes
/// and integers (0, −1, 2³¹, 2⁶³−1 …) written over length fields, chunks deleted, duplicated or inserted, and numbers in
/// JSON text replaced by huge, negative or fractional ones. Deterministic for a given <see cref="Random"/>.
/// </summary>
sealed class ByteMutator(Random random)
{
    static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7f, 0x80, 0xff, (byte)'{', (byte)'"', (byte)'.', (byte)'c', 0x95];
    static readonly long[] InterestingIntegers = [0, 1, -1, 7, 8, 255, 256, 65535, int.MaxValue, int.MinValue, uint.MaxValue, 1L << 32, 1L << 40, long.MaxValue, long.MinValue];
    static readonly string[] InterestingNumbers = ["0", "-1", "1.5", "1e309", "4294967296", "9223372036854775807", "99999999999999999999", "-0", "\"7\"", "null"];

    /// <summary>One to three mutations of <paramref name="original"/>; names what was done in <paramref name="what"/>.</summary>
    public byte[] Mutate(byte[] original, out string what)
    {
        var bytes = new List<byte>(original);
        var done = new List<string>();
        int count = 1 + random.Next(3);
        for (int i = 0; i < count; i++) done.Add(MutateOnce(bytes));
        what = string.Join(", ", done);
        return [.. bytes];
    }

    string MutateOnce(List<byte> bytes)
    {
        if (bytes.Count == 0) { bytes.Add(InterestingBytes[random.Next(InterestingBytes.Length)]); return "grow empty"; }
        int at = random.Next(bytes.Count);
        switch (random.Next(9))
        {
            case 0:
                bytes.RemoveRange(at, bytes.Count - at);
                return $"truncate at {at}";
            case 1:
                int flips = 1 + random.Next(8);
                for (int f = 0; f < flips; f++) { int p = random.Next(bytes.Count); bytes[p] ^= (byte)(1 << random.Next(8)); }
                return $"flip {flips} bits";
            case 2:
                bytes[at] = InterestingBytes[random.Next(InterestingBytes.Length)];
                return $"byte at {at}";
            case 3:
            {
                long value = InterestingIntegers[random.Next(InterestingIntegers.Length)];
                int width = random.Next(2) == 0 ? 4 : 8;
                var data = new byte[8];
                BinaryPrimitives.WriteInt64LittleEndian(data, value);
                for (int k = 0; k < width && at + k < bytes.Count; k++) bytes[at + k] = data[k];
                return $"int{8 * width} {value} at {at}";
            }
            case 4:
            {
                int length = Math.Min(bytes.Count - at, 1 + random.Next(64));
                bytes.RemoveRange(at, length);
                return $"delete {length} at {at}";
            }
            case 5:
            {
                int length = Math.Min(bytes.Count - at, 1 + random.Next(64));
                bytes.InsertRange(random.Next(bytes.Count), bytes.GetRange(at, length));
                return $"duplicate {length} from {at}";
            }
            case 6:
            {
                var junk = new byte[1 + random.Next(16)];
                random.NextBytes(junk);
                bytes.InsertRange(at, junk);
                return $"insert {junk.Length} at {at}";
            }
            case 7:
                // The first 8 bytes are the safetensors header length, and often a magic number or a zip signature.
                var huge = new byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(huge, (ulong)InterestingIntegers[random.Next(InterestingIntegers.Length)]);
                for (int k = 0; k < 8 && k < bytes.Count; k++) bytes[k] = huge[k];
                return "prefix integer";
            default:
                return ReplaceNumber(bytes, at);
        }
    }

    /// <summary>Replaces the run of ASCII digits nearest after <paramref name="at"/> (a JSON number, a shape, an offset).</summary>
    string ReplaceNumber(List<byte> bytes, int at)
    {
        int start = at;
        while (start < bytes.Count && !IsDigit(bytes[start])) start++;
        if (start == bytes.Count) return "no number";
        int end = start;
        while (end < bytes.Count && IsDigit(bytes[end])) end++;
        string replacement = InterestingNumbers[random.Next(InterestingNumbers.Length)];
        bytes.RemoveRange(start, end - start);
        bytes.InsertRange(start, Encoding.ASCII.GetBytes(replacement));
        return $"number at {start} → {replacement}";
    }

    static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';
}
