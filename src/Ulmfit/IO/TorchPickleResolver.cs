namespace Ulmfit.IO;

/// <summary>
/// The allow-list for PyTorch state-dict pickles: <c>collections.OrderedDict</c>, the tensor reconstruction functions
/// <c>torch._utils._rebuild_tensor_v2</c> / <c>_rebuild_tensor</c> / <c>_rebuild_parameter</c>, and the storage
/// classes (<c>torch.FloatStorage</c>, …) that persistent ids name. Each is rebuilt as data: a storage reference
/// (key, type, element count) and a view record whose bounds are checked against it.
/// </summary>
internal sealed class TorchPickleResolver(PickleLimits limits) : IPickleResolver
{
    const int MaxRank = 16;

    static readonly Dictionary<string, SafetensorsDType> StorageTypes = new(StringComparer.Ordinal)
    {
        ["FloatStorage"] = SafetensorsDType.F32, ["DoubleStorage"] = SafetensorsDType.F64, ["HalfStorage"] = SafetensorsDType.F16,
        ["BFloat16Storage"] = SafetensorsDType.BF16, ["LongStorage"] = SafetensorsDType.I64, ["IntStorage"] = SafetensorsDType.I32,
        ["ShortStorage"] = SafetensorsDType.I16, ["CharStorage"] = SafetensorsDType.I8, ["ByteStorage"] = SafetensorsDType.U8,
        ["BoolStorage"] = SafetensorsDType.Bool,
    };

    static readonly HashSet<string> RebuildFunctions = new(StringComparer.Ordinal) { "_rebuild_tensor_v2", "_rebuild_tensor", "_rebuild_parameter" };

    /// <summary>Storages by key, in the order the pickle first referred to them.</summary>
    public Dictionary<string, TorchStorage> Storages { get; } = new(StringComparer.Ordinal);

    public string Allowed => "collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_tensor, torch._utils._rebuild_parameter, torch.<Type>Storage";

    public bool Accepts(string module, string name) =>
        DataOnlyResolver.IsOrderedDict(module, name)
        || (module == "torch._utils" && RebuildFunctions.Contains(name))
        || (module == "torch" && StorageTypes.ContainsKey(name));

    public object? Call(PickleGlobal callable, PickleTuple args, Func<string, Exception> fail)
    {
        if (DataOnlyResolver.IsOrderedDict(callable.Module, callable.Name)) return DataOnlyResolver.BuildOrderedDict(args, fail);
        return callable.Name switch
        {
            "_rebuild_tensor_v2" when args.Count is 6 or 7 => RebuildTensor(args, fail),
            "_rebuild_tensor" when args.Count == 4 => RebuildTensor(args, fail),
            "_rebuild_parameter" when args.Count is 3 => args[0] as TorchTensorRecord ?? throw fail("the parameter's data is not a tensor"),
            _ when RebuildFunctions.Contains(callable.Name) => throw fail($"unexpected {args.Count} arguments"),
            _ => throw fail("a storage class is not something to call"),
        };
    }

    /// <summary><c>(storage, storage_offset, size, stride, …)</c> → a view record, bounds-checked.</summary>
    TorchTensorRecord RebuildTensor(PickleTuple args, Func<string, Exception> fail)
    {
        if (args[0] is not TorchStorage storage) throw fail($"the first argument must be a storage, got {PickleTypeNames.Of(args[0])}");
        if (args[1] is not long offset || offset < 0) throw fail("storage offset must be a non-negative integer");
        long[] shape = Integers(args[2], "size", fail);
        long[] strides = Integers(args[3], "stride", fail);
        if (strides.Length != shape.Length) throw fail($"size has {shape.Length} dimensions but stride has {strides.Length}");
        if (args.Count >= 5 && args[4] is not bool) throw fail("requires_grad must be a bool");
        if (args.Count >= 6 && args[5] is not (PickleDict { Count: 0 } or null)) throw fail("tensors with backward hooks are not supported");
        long count = 1, last = offset;
        for (int d = 0; d < shape.Length; d++)
        {
            if (shape[d] != 0 && count > long.MaxValue / shape[d]) throw fail("tensor size overflows");
            count *= shape[d];
        }
        if (count > 0)
        {
            for (int d = 0; d < shape.Length; d++)
            {
                if (shape[d] > 1 && strides[d] > (long.MaxValue - last) / (shape[d] - 1)) throw fail("tensor strides overflow");
                last += (shape[d] - 1) * strides[d];
            }
            if (last >= storage.ElementCount)
                throw fail($"tensor view [{string.Join(", ", shape)}] at offset {offset} with strides ({string.Join(", ", strides)}) reaches element {last} of a {storage.ElementCount}-element storage");
        }
        return new TorchTensorRecord(storage, offset, shape, strides, count);
    }

    static long[] Integers(object? value, string what, Func<string, Exception> fail)
    {
        if (value is not PickleTuple tuple) throw fail($"{what} must be a tuple of integers");
        if (tuple.Count > MaxRank) throw fail($"{what} has {tuple.Count} dimensions, at most {MaxRank} allowed");
        var result = new long[tuple.Count];
        for (int i = 0; i < result.Length; i++)
            result[i] = tuple[i] is long n && n >= 0 ? n : throw fail($"{what} entry {i} must be a non-negative integer");
        return result;
    }

    /// <summary><c>('storage', StorageClass, key, location, element_count[, view_metadata])</c> → the shared storage.</summary>
    public object? PersistentLoad(object? id, Func<string, Exception> fail)
    {
        if (id is not PickleTuple { Count: 5 or 6 } pid || pid[0] is not "storage")
            throw fail($"only ('storage', …) ids are supported, got {PickleTypeNames.Of(id)}{(id is PickleTuple t ? $" of {t.Count}" : "")}");
        if (pid[1] is not PickleGlobal { Module: "torch" } type || !StorageTypes.TryGetValue(type.Name, out SafetensorsDType dtype))
            throw fail("the storage type must be a torch.<Type>Storage class");
        if (pid[2] is not string key || key.Length is 0 or > 64 || !key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            throw fail("the storage key must be a short ASCII name");
        if (pid[3] is not string location || location.Length > 32) throw fail("the storage location must be a short string (such as 'cpu')");
        if (pid[4] is not long count || count < 0) throw fail("the storage size must be a non-negative integer");
        if (pid.Count == 6 && pid[5] is not null) throw fail("storage views (pre-1.0 PyTorch) are not supported");
        if (count > int.MaxValue / dtype.ElementSize()) throw fail($"storage '{key}' of {count} elements is larger than 2 GiB");
        if (Storages.TryGetValue(key, out TorchStorage? known))
        {
            if (known.DType != dtype || known.ElementCount != count)
                throw fail($"storage '{key}' is declared twice with different types or sizes");
            return known;
        }
        if (Storages.Count >= limits.MaxMemoEntries) throw fail("too many storages");
        var storage = new TorchStorage(key, dtype, count);
        Storages.Add(key, storage);
        return storage;
    }
}
