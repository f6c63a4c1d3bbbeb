using static TorchSharp.torch;

namespace Ulmfit.IO;

/// <summary>
/// The element types a safetensors file may declare that this library reads and writes, with their safetensors names
/// (<c>"F32"</c>, …) and sizes. Unsigned 16/32/64-bit types exist in the format but not in our engine (TorchSharp),
/// so they are refused with a clear message rather than mapped to something they are not.
/// </summary>
public enum SafetensorsDType
{
    /// <summary>IEEE float32, <c>"F32"</c> (what our models use).</summary>
    F32,
    /// <summary>IEEE float64, <c>"F64"</c>.</summary>
    F64,
    /// <summary>IEEE float16, <c>"F16"</c>.</summary>
    F16,
    /// <summary>bfloat16, <c>"BF16"</c>.</summary>
    BF16,
    /// <summary>int64, <c>"I64"</c>.</summary>
    I64,
    /// <summary>int32, <c>"I32"</c>.</summary>
    I32,
    /// <summary>int16, <c>"I16"</c>.</summary>
    I16,
    /// <summary>int8, <c>"I8"</c>.</summary>
    I8,
    /// <summary>uint8, <c>"U8"</c>.</summary>
    U8,
    /// <summary>bool, one byte holding 0 or 1, <c>"BOOL"</c>.</summary>
    Bool,
}

/// <summary>Names, sizes and engine types of <see cref="SafetensorsDType"/>.</summary>
public static class SafetensorsDTypes
{
    static readonly Dictionary<string, SafetensorsDType> ByName = new(StringComparer.Ordinal)
    {
        ["F32"] = SafetensorsDType.F32, ["F64"] = SafetensorsDType.F64, ["F16"] = SafetensorsDType.F16,
        ["BF16"] = SafetensorsDType.BF16, ["I64"] = SafetensorsDType.I64, ["I32"] = SafetensorsDType.I32,
        ["I16"] = SafetensorsDType.I16, ["I8"] = SafetensorsDType.I8, ["U8"] = SafetensorsDType.U8,
        ["BOOL"] = SafetensorsDType.Bool,
    };

    // Valid in the format, but our engine has no such tensors.
    static readonly HashSet<string> KnownButUnsupported = new(StringComparer.Ordinal) { "U16", "U32", "U64", "F8_E4M3", "F8_E5M2" };

    /// <summary>The name written in headers (<c>"F32"</c>, <c>"BOOL"</c>, …).</summary>
    public static string Name(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.Bool => "BOOL",
        _ => dtype.ToString(),
    };

    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F64 or SafetensorsDType.I64 => 8,
        SafetensorsDType.F32 or SafetensorsDType.I32 => 4,
        SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.I16 => 2,
        SafetensorsDType.I8 or SafetensorsDType.U8 or SafetensorsDType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>Whether the type can hold NaN or infinity (and so is checked for them on load).</summary>
    public static bool IsFloatingPoint(this SafetensorsDType dtype) =>
        dtype is SafetensorsDType.F32 or SafetensorsDType.F64 or SafetensorsDType.F16 or SafetensorsDType.BF16;

    /// <summary>The engine's tensor type for <paramref name="dtype"/>.</summary>
    public static ScalarType ToScalarType(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F32 => ScalarType.Float32,
        SafetensorsDType.F64 => ScalarType.Float64,
        SafetensorsDType.F16 => ScalarType.Float16,
        SafetensorsDType.BF16 => ScalarType.BFloat16,
        SafetensorsDType.I64 => ScalarType.Int64,
        SafetensorsDType.I32 => ScalarType.Int32,
        SafetensorsDType.I16 => ScalarType.Int16,
        SafetensorsDType.I8 => ScalarType.Int8,
        SafetensorsDType.U8 => ScalarType.Byte,
        SafetensorsDType.Bool => ScalarType.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>The safetensors type of an engine tensor type; false for types the format cannot hold (complex…).</summary>
    public static bool TryFromScalarType(ScalarType type, out SafetensorsDType dtype)
    {
        SafetensorsDType? found = type switch
        {
            ScalarType.Float32 => SafetensorsDType.F32,
            ScalarType.Float64 => SafetensorsDType.F64,
            ScalarType.Float16 => SafetensorsDType.F16,
            ScalarType.BFloat16 => SafetensorsDType.BF16,
            ScalarType.Int64 => SafetensorsDType.I64,
            ScalarType.Int32 => SafetensorsDType.I32,
            ScalarType.Int16 => SafetensorsDType.I16,
            ScalarType.Int8 => SafetensorsDType.I8,
            ScalarType.Byte => SafetensorsDType.U8,
            ScalarType.Bool => SafetensorsDType.Bool,
            _ => null,
        };
        dtype = found.GetValueOrDefault();
        return found.HasValue;
    }

    /// <summary>Parses a header's dtype string; the error says which types are accepted.</summary>
    internal static bool TryParse(string name, out SafetensorsDType dtype, out string? problem)
    {
        problem = null;
        if (ByName.TryGetValue(name, out dtype)) return true;
        problem = KnownButUnsupported.Contains(name)
            ? $"dtype '{name}' is valid safetensors but not supported by this library"
            : $"unknown dtype '{Shorten(name)}' (accepted: {string.Join(", ", ByName.Keys)})";
        return false;
    }

    internal static string Shorten(string text, int max = 80) => text.Length <= max ? text : text[..max] + "…";
}
