namespace Ulmfit.Data;

/// <summary>
/// Line/column arithmetic over UTF-8 bytes. Columns count Unicode scalar values (what an editor shows as
/// characters, ignoring wide glyphs), which in UTF-8 is the number of bytes that are not continuation bytes.
/// </summary>
internal static class TextPosition
{
    /// <summary>Characters encoded by <paramref name="utf8"/> (continuation bytes 10xxxxxx are not counted).</summary>
    public static int CountCharacters(ReadOnlySpan<byte> utf8)
    {
        int continuation = 0;
        foreach (byte b in utf8)
            if ((b & 0xC0) == 0x80) continuation++;
        return utf8.Length - continuation;
    }

    /// <summary>
    /// The 1-based line and column of byte <paramref name="index"/> of <paramref name="utf8"/>, given that byte 0 is on
    /// <paramref name="startLine"/> with <paramref name="charactersBefore"/> characters before it on that line.
    /// </summary>
    public static (long Line, int Column) Locate(ReadOnlySpan<byte> utf8, int index, long startLine, int charactersBefore = 0)
    {
        index = Math.Clamp(index, 0, utf8.Length);
        ReadOnlySpan<byte> before = utf8[..index];
        int newlines = before.Count((byte)'\n');
        if (newlines == 0) return (startLine, charactersBefore + CountCharacters(before) + 1);
        int lastNewline = before.LastIndexOf((byte)'\n');
        return (startLine + newlines, CountCharacters(before[(lastNewline + 1)..]) + 1);
    }
}
