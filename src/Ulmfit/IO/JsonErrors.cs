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
}
