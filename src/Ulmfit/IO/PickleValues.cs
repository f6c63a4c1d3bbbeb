using System.Numerics;

namespace Ulmfit.IO;

/// <summary>
/// What <see cref="RestrictedUnpickler"/> builds from a pickle: plain data only. Python <c>None</c> is <c>null</c>,
/// <c>bool</c> is <see cref="bool"/>, <c>int</c> is <see cref="long"/> (or <see cref="BigInteger"/> when it does not
/// fit), <c>float</c> is <see cref="double"/>, <c>str</c> is <see cref="string"/>, <c>bytes</c> is a byte array,
/// <c>list</c> is <see cref="PickleList"/>, <c>tuple</c> is <see cref="PickleTuple"/>, <c>dict</c> and
/// <c>collections.OrderedDict</c> are <see cref="PickleDict"/>. Torch readers add tensor records.
/// </summary>
public abstract class PickleContainer
{
    /// <summary>Nesting depth: 1 for a container of scalars, one more per level of containers inside.</summary>
    public int Depth { get; private set; } = 1;

    internal static int DepthOf(object? value) => value is PickleContainer c ? c.Depth : 0;

    /// <summary>Records that <paramref name="child"/> now sits inside this container; false when too deep.</summary>
    internal bool Nest(object? child, int maxDepth)
    {
        int needed = DepthOf(child) + 1;
        if (needed > Depth) Depth = needed;
        return Depth <= maxDepth;
    }
}

/// <summary>A Python list.</summary>
public sealed class PickleList : PickleContainer
{
    internal readonly List<object?> Items = [];

    /// <summary>The elements.</summary>
    public IReadOnlyList<object?> Values => Items;
}

/// <summary>A Python tuple.</summary>
public sealed class PickleTuple : PickleContainer
{
    internal PickleTuple(object?[] items) => Items = items;

    internal object?[] Items { get; }

    /// <summary>The elements.</summary>
    public IReadOnlyList<object?> Values => Items;

    /// <summary>Number of elements.</summary>
    public int Count => Items.Length;

    /// <summary>Element <paramref name="index"/>.</summary>
    public object? this[int index] => Items[index];
}

/// <summary>A Python dict (or <c>collections.OrderedDict</c>): entries in insertion order; setting an existing key
/// replaces its value in place, as Python does.</summary>
public sealed class PickleDict : PickleContainer
{
    static readonly object NoneKey = new();
    readonly List<KeyValuePair<object?, object?>> entries = [];
    readonly Dictionary<object, int> index = [];

    internal PickleDict(bool ordered) => IsOrderedDict = ordered;

    /// <summary>Whether it was a <c>collections.OrderedDict</c>.</summary>
    public bool IsOrderedDict { get; }

    /// <summary>Instance attributes set by the pickle (PyTorch state dicts carry <c>_metadata</c>); usually null.</summary>
    public PickleDict? Attributes { get; internal set; }

    /// <summary>Entries in insertion order.</summary>
    public IReadOnlyList<KeyValuePair<object?, object?>> Entries => entries;

    /// <summary>Number of entries.</summary>
    public int Count => entries.Count;

    /// <summary>The value of string key <paramref name="key"/>.</summary>
    public bool TryGetValue(string key, out object? value)
    {
        if (index.TryGetValue(key, out int at))
        {
            value = entries[at].Value;
            return true;
        }
        value = null;
        return false;
    }

    /// <summary>Adds or replaces; false when <paramref name="key"/> is not hashable (a list or a dict).</summary>
    internal bool Set(object? key, object? value)
    {
        if (key is PickleList or PickleDict) return false;
        object lookup = key ?? NoneKey;
        if (index.TryGetValue(lookup, out int at)) entries[at] = new(key, value);
        else
        {
            index.Add(lookup, entries.Count);
            entries.Add(new(key, value));
        }
        return true;
    }
}

/// <summary>A reference to a module-level name (<c>GLOBAL</c>/<c>STACK_GLOBAL</c>) that the allow-list accepted.</summary>
public sealed record PickleGlobal(string Module, string Name)
{
    /// <inheritdoc />
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>Python type names for error messages.</summary>
internal static class PickleTypeNames
{
    public static string Of(object? value) => value switch
    {
        null => "None",
        bool => "bool",
        long or BigInteger => "int",
        double => "float",
        string => "str",
        byte[] => "bytes",
        PickleList => "list",
        PickleTuple => "tuple",
        PickleDict => "dict",
        PickleGlobal g => $"global {g}",
        TorchStorage => "storage",
        TorchTensorRecord => "tensor",
        _ => value.GetType().Name,
    };
}
