using System.Collections.Frozen;

namespace Ulmfit.Text;

/// <summary>
/// The named HTML character references seen in web text: all of HTML 4's Latin-1 set plus the common
/// typography, arrows and symbols. Names are case-sensitive, as in HTML (<c>&amp;Eacute;</c> is not <c>&amp;eacute;</c>).
/// </summary>
internal static class HtmlEntities
{
    // HTML 4 names for U+00A0..U+00FF, in code point order.
    const string Latin1Names =
        "nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr " +
        "deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest " +
        "Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml " +
        "ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig " +
        "agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml " +
        "eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml";

    static readonly (string Name, int CodePoint)[] Others =
    [
        ("quot", '"'), ("amp", '&'), ("lt", '<'), ("gt", '>'), ("apos", '\''),
        ("OElig", 0x152), ("oelig", 0x153), ("Scaron", 0x160), ("scaron", 0x161), ("Yuml", 0x178), ("fnof", 0x192),
        ("circ", 0x2C6), ("tilde", 0x2DC), ("ensp", 0x2002), ("emsp", 0x2003), ("thinsp", 0x2009),
        ("zwnj", 0x200C), ("zwj", 0x200D), ("lrm", 0x200E), ("rlm", 0x200F), ("ndash", 0x2013), ("mdash", 0x2014),
        ("lsquo", 0x2018), ("rsquo", 0x2019), ("sbquo", 0x201A), ("ldquo", 0x201C), ("rdquo", 0x201D), ("bdquo", 0x201E),
        ("dagger", 0x2020), ("Dagger", 0x2021), ("bull", 0x2022), ("hellip", 0x2026), ("permil", 0x2030),
        ("prime", 0x2032), ("Prime", 0x2033), ("lsaquo", 0x2039), ("rsaquo", 0x203A), ("euro", 0x20AC),
        ("trade", 0x2122), ("larr", 0x2190), ("uarr", 0x2191), ("rarr", 0x2192), ("darr", 0x2193), ("harr", 0x2194),
        ("minus", 0x2212), ("infin", 0x221E), ("ne", 0x2260), ("le", 0x2264), ("ge", 0x2265),
        ("spades", 0x2660), ("clubs", 0x2663), ("hearts", 0x2665), ("diams", 0x2666),
    ];

    static readonly FrozenDictionary<string, string> ByName = Build();

    /// <summary>Looks names up without allocating: the scanner hands over a slice of the document.</summary>
    public static readonly FrozenDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> Lookup =
        ByName.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Longest name in the table; no reference longer than this is worth looking up.</summary>
    public const int MaxNameLength = 8;

    static FrozenDictionary<string, string> Build()
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        string[] latin1 = Latin1Names.Split(' ');
        for (int k = 0; k < latin1.Length; k++) map[latin1[k]] = char.ConvertFromUtf32(0xA0 + k);
        foreach (var (name, cp) in Others) map[name] = char.ConvertFromUtf32(cp);
        if (latin1.Length != 96 || map.Keys.Any(k => k.Length > MaxNameLength))
            throw new InvalidOperationException("The HTML entity table is malformed.");
        return map.ToFrozenDictionary(StringComparer.Ordinal);
    }

    // Browsers read numeric references 128..159 as Windows-1252 (HTML5 does the same); texts scraped from
    // old pages use &#146; for a right quote, &#150; for a dash and so on. 0 marks bytes with no character.
    static readonly int[] Windows1252 =
    [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
        0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    ];

    /// <summary>The text of a numeric reference: U+FFFD for impossible values, Windows-1252 for 128..159.</summary>
    public static string FromNumber(long value)
    {
        if (value is >= 128 and <= 159)
        {
            int mapped = Windows1252[value - 128];
            return mapped == 0 ? char.ConvertFromUtf32((int)value) : char.ConvertFromUtf32(mapped);
        }
        if (value <= 0 || value > 0x10FFFF || value is >= 0xD800 and <= 0xDFFF) return "\uFFFD";
        return char.ConvertFromUtf32((int)value);
    }
}
