namespace Ulmfit.IO;

/// <summary>
/// Decides which module-level names a pickle may refer to and what calling them builds. The unpickler asks at the
/// <c>GLOBAL</c> opcode, so a refused name is reported at its own offset before anything is built; nothing is ever
/// looked up by reflection or executed — every accepted name maps to a small hand-written data constructor.
/// </summary>
internal interface IPickleResolver
{
    /// <summary>The allow-list, for error messages.</summary>
    string Allowed { get; }

    /// <summary>Whether <paramref name="module"/>.<paramref name="name"/> may appear.</summary>
    bool Accepts(string module, string name);

    /// <summary>Builds the value of <c>callable(*args)</c> (the REDUCE opcode); throws through
    /// <paramref name="fail"/> when the arguments are not what that callable takes.</summary>
    object? Call(PickleGlobal callable, PickleTuple args, Func<string, Exception> fail);

    /// <summary>Resolves a persistent id (BINPERSID); PyTorch uses them for tensor storages.</summary>
    object? PersistentLoad(object? id, Func<string, Exception> fail);
}

/// <summary>Plain data: no globals but <c>collections.OrderedDict</c> (when allowed), no persistent ids.</summary>
internal sealed class DataOnlyResolver(bool allowOrderedDict) : IPickleResolver
{
    public static DataOnlyResolver NoGlobals { get; } = new(false);

    public string Allowed => allowOrderedDict ? "collections.OrderedDict" : "none: plain data only";

    public bool Accepts(string module, string name) => allowOrderedDict && IsOrderedDict(module, name);

    public object? Call(PickleGlobal callable, PickleTuple args, Func<string, Exception> fail) => BuildOrderedDict(args, fail);

    public object? PersistentLoad(object? id, Func<string, Exception> fail) =>
        throw fail("persistent ids belong to PyTorch files, not plain data pickles");

    public static bool IsOrderedDict(string module, string name) => module == "collections" && name == "OrderedDict";

    /// <summary><c>OrderedDict()</c> or <c>OrderedDict([(key, value), …])</c>.</summary>
    public static PickleDict BuildOrderedDict(PickleTuple args, Func<string, Exception> fail)
    {
        var dict = new PickleDict(ordered: true);
        if (args.Count == 0) return dict;
        if (args.Count != 1 || args[0] is not PickleList pairs) throw fail("OrderedDict takes nothing or one list of (key, value) pairs");
        foreach (object? pair in pairs.Values)
        {
            if (pair is not PickleTuple { Count: 2 } kv) throw fail("OrderedDict's list must hold (key, value) pairs");
            if (!dict.Set(kv[0], kv[1])) throw fail($"unhashable {PickleTypeNames.Of(kv[0])} used as a dict key");
        }
        return dict;
    }
}
