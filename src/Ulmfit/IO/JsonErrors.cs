using System.Text;
using System.Text.Json;

namespace Ulmfit.IO;

/// <summary>Turns System.Text.Json's messages into the one-line problems our exceptions carry.</summary>
internal static class JsonErrors
{
    /// <summary>The message without the trailing " Path: … | LineNumber: … | BytePositionInLine: …" (we report the
    /// location ourselves).</summary>
    public static string WithoutLocation(JsonException e)
    {
        string message = e.Message;
        int cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
        if (cut < 0) cut = message.IndexOf(" LineNumber: ", StringComparison.Ordinal);
        return (cut >= 0 ? message[..cut] : message).TrimEnd();
    }

    /// <summary>Offset of the first byte that is not valid UTF-8, or −1. System.Text.Json checks string contents only
    /// when a string is read (and then throws InvalidOperationException), so documents are checked up front.</summary>
    public static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes)) return -1;
        int at = 0;
        while (at < bytes.Length)
        {
            if (Rune.DecodeFromUtf8(bytes[at..], out _, out int consumed) != System.Buffers.OperationStatus.Done) return at;
            at += consumed;
        }
        return -1;
    }
}
