using System.Globalization;
using System.Numerics;
using System.Text;

namespace Ulmfit.IO;

/// <summary>
/// A pickle reader that accepts data and nothing else. Python's own unpickler imports any module and calls any
/// function a pickle names — loading an untrusted pickle runs arbitrary code. This one implements the opcodes that
/// describe data (protocols 0–5: numbers, strings, bytes, lists, tuples, dicts, memo, marks, frames) plus the few
/// reconstruction calls PyTorch state dicts need, each through a small hand-written constructor; every other opcode
/// (object construction, extension registry, out-of-band buffers…) and every global outside the allow-list is refused
/// with a <see cref="ModelFileException"/> naming it and its byte offset. Memo, stack, marks, nesting, string lengths
/// and total allocation are capped (<see cref="PickleLimits"/>), and there is no recursion, so no input can crash,
/// hang or exhaust it.
/// </summary>
public sealed class RestrictedUnpickler
{
    readonly PickleInput input;
    readonly IPickleResolver resolver;
    readonly PickleLimits limits;
    readonly List<object?> stack = [];
    readonly List<int> marks = [];
    readonly Dictionary<uint, object?> memo = [];
    long allocated;
    long opcodeOffset;

    internal RestrictedUnpickler(Stream stream, string source, IPickleResolver resolver, PickleLimits? limits)
    {
        this.limits = limits ?? PickleLimits.Default;
        this.limits.Validate();
        input = new PickleInput(stream, source, this.limits);
        this.resolver = resolver;
    }

    /// <summary>Reads one plain-data pickle (no globals except, if <paramref name="allowOrderedDict"/>,
    /// <c>collections.OrderedDict</c>) from <paramref name="bytes"/>.</summary>
    public static object? Load(byte[] bytes, string source, bool allowOrderedDict = false, PickleLimits? limits = null)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        var resolver = allowOrderedDict ? new DataOnlyResolver(true) : DataOnlyResolver.NoGlobals;
        return new RestrictedUnpickler(stream, source, resolver, limits).Load();
    }

    /// <summary>Reads a pickled list of strings (fastai's <c>itos</c> vocabulary files).</summary>
    public static IReadOnlyList<string> LoadStringList(string path, PickleLimits? limits = null)
    {
        limits ??= PickleLimits.Default;
        byte[] bytes = BoundedFile.ReadAll(path, limits.MaxPickleBytes);
        object? value = Load(bytes, path, allowOrderedDict: false, limits);
        if (value is not PickleList list) throw new ModelFileException(path, $"expected a pickled list of strings, found a {PickleTypeNames.Of(value)}");
        var strings = new string[list.Values.Count];
        for (int i = 0; i < strings.Length; i++)
            strings[i] = list.Values[i] as string ?? throw new ModelFileException(path, $"entry {i} of the list is a {PickleTypeNames.Of(list.Values[i])}, not a string");
        return strings;
    }

    /// <summary>Runs the pickle to its STOP opcode and returns the value it built; the stream is left just after STOP.</summary>
    internal object? Load()
    {
        while (true)
        {
            opcodeOffset = input.Position;
            byte op = input.ReadOpcode();
            if (op == (byte)'.') return Stop();
            Execute(op);
            if (stack.Count > limits.MaxStackItems) throw Fail($"more than {limits.MaxStackItems} values on the stack");
        }
    }

    object? Stop()
    {
        if (stack.Count == 0) throw Fail("STOP with nothing on the stack");
        return stack[^1];
    }

    void Execute(byte op)
    {
        switch (op)
        {
            // Framing and protocol: no data.
            case 0x80: // PROTO
                if (input.ReadU8() > 5) throw Fail("pickle protocol above 5 is not known");
                break;
            case 0x95: // FRAME: a length hint for buffering; the contents are ordinary opcodes.
                input.ReadU64();
                break;

            // Stack and marks.
            case (byte)'(': // MARK
                if (marks.Count >= limits.MaxMarks) throw Fail($"more than {limits.MaxMarks} open marks");
                marks.Add(stack.Count);
                break;
            case (byte)'0': Pop(); break; // POP
            case (byte)'1': PopMark(); break; // POP_MARK
            case (byte)'2': Push(Peek()); break; // DUP

            // Scalars.
            case (byte)'N': Push(null); break; // NONE
            case 0x88: Push(true); break; // NEWTRUE
            case 0x89: Push(false); break; // NEWFALSE
            case (byte)'J': Push((long)input.ReadI32()); break; // BININT
            case (byte)'K': Push((long)input.ReadU8()); break; // BININT1
            case (byte)'M': Push((long)input.ReadU16()); break; // BININT2
            case 0x8a: Push(LittleEndianInteger(input.ReadU8())); break; // LONG1
            case 0x8b: // LONG4
                int n = input.ReadI32();
                if (n < 0) throw Fail("LONG4 with a negative length");
                Push(LittleEndianInteger(n));
                break;
            case (byte)'I': Push(TextInteger(input.ReadLine(100, opcodeOffset, "INT"), allowBool: true)); break; // INT
            case (byte)'L': Push(TextInteger(input.ReadLine(100, opcodeOffset, "LONG").TrimEnd('L'), allowBool: false)); break; // LONG
            case (byte)'G': Push(input.ReadBigEndianDouble()); break; // BINFLOAT
            case (byte)'F': Push(TextFloat(input.ReadLine(100, opcodeOffset, "FLOAT"))); break; // FLOAT

            // Strings and bytes.
            case (byte)'X': Push(Counted(input.ReadUtf8(input.ReadU32(), opcodeOffset, "BINUNICODE"))); break;
            case 0x8c: Push(Counted(input.ReadUtf8(input.ReadU8(), opcodeOffset, "SHORT_BINUNICODE"))); break;
            case 0x8d: Push(Counted(input.ReadUtf8(input.ReadU64(), opcodeOffset, "BINUNICODE8"))); break;
            case (byte)'T': Push(Counted(Latin1(input.ReadBytes((ulong)NonNegative(input.ReadI32()), opcodeOffset, "BINSTRING")))); break;
            case (byte)'U': Push(Counted(Latin1(input.ReadBytes(input.ReadU8(), opcodeOffset, "SHORT_BINSTRING")))); break;
            case (byte)'B': Push(Counted(input.ReadBytes(input.ReadU32(), opcodeOffset, "BINBYTES"))); break;
            case (byte)'C': Push(Counted(input.ReadBytes(input.ReadU8(), opcodeOffset, "SHORT_BINBYTES"))); break;
            case 0x8e: Push(Counted(input.ReadBytes(input.ReadU64(), opcodeOffset, "BINBYTES8"))); break;

            // Containers.
            case (byte)']': Push(Counted(new PickleList())); break; // EMPTY_LIST
            case (byte)'l': // LIST
            {
                var list = Counted(new PickleList());
                foreach (object? item in PopMark()) AddToList(list, item);
                Push(list);
                break;
            }
            case (byte)'a': // APPEND
            {
                object? item = Pop();
                AddToList(PeekAs<PickleList>("APPEND"), item);
                break;
            }
            case (byte)'e': // APPENDS
            {
                object?[] items = PopMark();
                PickleList list = PeekAs<PickleList>("APPENDS");
                foreach (object? item in items) AddToList(list, item);
                break;
            }
            case (byte)')': Push(MakeTuple([])); break; // EMPTY_TUPLE
            case (byte)'t': Push(MakeTuple(PopMark())); break; // TUPLE
            case 0x85: Push(MakeTuple([Pop()])); break; // TUPLE1
            case 0x86: { object? b = Pop(), a = Pop(); Push(MakeTuple([a, b])); break; } // TUPLE2
            case 0x87: { object? c = Pop(), b = Pop(), a = Pop(); Push(MakeTuple([a, b, c])); break; } // TUPLE3
            case (byte)'}': Push(Counted(new PickleDict(ordered: false))); break; // EMPTY_DICT
            case (byte)'d': // DICT
            {
                var dict = Counted(new PickleDict(ordered: false));
                SetItems(dict, PopMark());
                Push(dict);
                break;
            }
            case (byte)'s': // SETITEM
            {
                object? value = Pop(), key = Pop();
                SetItems(PeekAs<PickleDict>("SETITEM"), [key, value]);
                break;
            }
            case (byte)'u': // SETITEMS
            {
                object?[] items = PopMark();
                SetItems(PeekAs<PickleDict>("SETITEMS"), items);
                break;
            }

            // Memo.
            case (byte)'q': Put(input.ReadU8()); break; // BINPUT
            case (byte)'r': Put(input.ReadU32()); break; // LONG_BINPUT
            case (byte)'p': Put(MemoIndex(input.ReadLine(20, opcodeOffset, "PUT"))); break; // PUT
            case 0x94: Put((uint)memo.Count); break; // MEMOIZE
            case (byte)'h': Push(Get(input.ReadU8())); break; // BINGET
            case (byte)'j': Push(Get(input.ReadU32())); break; // LONG_BINGET
            case (byte)'g': Push(Get(MemoIndex(input.ReadLine(20, opcodeOffset, "GET")))); break; // GET

            // The only doors to anything beyond data, each guarded by the resolver.
            case (byte)'c': // GLOBAL
            {
                string module = input.ReadLine(200, opcodeOffset, "GLOBAL module");
                string name = input.ReadLine(200, opcodeOffset, "GLOBAL name");
                Push(Global(module, name));
                break;
            }
            case 0x93: // STACK_GLOBAL
            {
                object? name = Pop(), module = Pop();
                if (module is not string m || name is not string s) throw Fail("STACK_GLOBAL needs two strings");
                Push(Global(m, s));
                break;
            }
            case (byte)'R': // REDUCE
            {
                object? args = Pop(), callable = Pop();
                if (callable is not PickleGlobal global) throw Fail($"REDUCE calls a {PickleTypeNames.Of(callable)}, not an allowed global");
                if (args is not PickleTuple tuple) throw Fail($"REDUCE arguments must be a tuple, got a {PickleTypeNames.Of(args)}");
                Push(resolver.Call(global, tuple, problem => Fail($"{global}: {problem}")));
                break;
            }
            case (byte)'b': // BUILD
            {
                object? state = Pop();
                if (Peek() is not PickleDict { IsOrderedDict: true } target || state is not PickleDict attributes)
                    throw Fail($"BUILD may only set attributes of an OrderedDict from a dict (found {PickleTypeNames.Of(state)} for a {PickleTypeNames.Of(Peek())})");
                target.Attributes = attributes;
                break;
            }
            case (byte)'Q': // BINPERSID
                Push(resolver.PersistentLoad(Pop(), problem => Fail($"persistent id: {problem}")));
                break;
            case (byte)'P': // PERSID
                Push(resolver.PersistentLoad(input.ReadLine(200, opcodeOffset, "PERSID"), problem => Fail($"persistent id: {problem}")));
                break;

            default:
                throw Fail(Refusal(op));
        }
    }

    static string Refusal(byte op) => op switch
    {
        (byte)'i' => "opcode INST (0x69) is not allowed: it constructs arbitrary objects",
        (byte)'o' => "opcode OBJ (0x6f) is not allowed: it constructs arbitrary objects",
        0x81 => "opcode NEWOBJ (0x81) is not allowed: it constructs arbitrary objects",
        0x92 => "opcode NEWOBJ_EX (0x92) is not allowed: it constructs arbitrary objects",
        0x82 or 0x83 or 0x84 => $"opcode EXT{(op == 0x82 ? 1 : op == 0x83 ? 2 : 4)} (0x{op:x2}) is not allowed: it names code through the extension registry",
        (byte)'S' => "opcode STRING (0x53) is not supported: protocol-0 quoted strings do not occur in model files",
        (byte)'V' => "opcode UNICODE (0x56) is not supported: protocol-0 escaped strings do not occur in model files",
        0x8f or 0x90 or 0x91 => $"opcode {(op == 0x8f ? "EMPTY_SET" : op == 0x90 ? "ADDITEMS" : "FROZENSET")} (0x{op:x2}) is not supported: sets do not occur in model files",
        0x96 or 0x97 or 0x98 => $"opcode {(op == 0x96 ? "BYTEARRAY8" : op == 0x97 ? "NEXT_BUFFER" : "READONLY_BUFFER")} (0x{op:x2}) is not supported: out-of-band buffers do not occur in model files",
        _ => $"unknown pickle opcode 0x{op:x2} (corrupt file, or not a pickle)",
    };

    PickleGlobal Global(string module, string name)
    {
        if (!resolver.Accepts(module, name))
            throw Fail($"refusing global '{module}.{name}': a model file never needs it, and loading it could run code (allowed here: {resolver.Allowed})");
        return new PickleGlobal(module, name);
    }

    ModelFileException Fail(string problem) => input.Error(opcodeOffset, problem);

    void Push(object? value) => stack.Add(value);

    object? Pop()
    {
        int floor = marks.Count > 0 ? marks[^1] : 0;
        if (stack.Count <= floor) throw Fail("stack underflow (corrupt pickle)");
        object? value = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return value;
    }

    object? Peek()
    {
        int floor = marks.Count > 0 ? marks[^1] : 0;
        if (stack.Count <= floor) throw Fail("stack underflow (corrupt pickle)");
        return stack[^1];
    }

    T PeekAs<T>(string opcode) where T : class =>
        Peek() as T ?? throw Fail($"{opcode} needs a {typeof(T).Name.Replace("Pickle", "").ToLowerInvariant()} on the stack, found a {PickleTypeNames.Of(Peek())}");

    object?[] PopMark()
    {
        if (marks.Count == 0) throw Fail("no MARK to pop to (corrupt pickle)");
        int at = marks[^1];
        marks.RemoveAt(marks.Count - 1);
        object?[] items = stack.GetRange(at, stack.Count - at).ToArray();
        stack.RemoveRange(at, stack.Count - at);
        return items;
    }

    void AddToList(PickleList list, object? item)
    {
        Account(16);
        list.Items.Add(item);
        if (!list.Nest(item, limits.MaxNestingDepth)) throw Fail($"containers nest deeper than {limits.MaxNestingDepth} levels");
    }

    PickleTuple MakeTuple(object?[] items)
    {
        Account(16 + 16L * items.Length);
        var tuple = new PickleTuple(items);
        foreach (object? item in items)
            if (!tuple.Nest(item, limits.MaxNestingDepth)) throw Fail($"containers nest deeper than {limits.MaxNestingDepth} levels");
        return tuple;
    }

    void SetItems(PickleDict dict, object?[] items)
    {
        if (items.Length % 2 != 0) throw Fail("SETITEMS with an odd number of values");
        for (int i = 0; i < items.Length; i += 2)
        {
            Account(32);
            if (!dict.Set(items[i], items[i + 1])) throw Fail($"unhashable {PickleTypeNames.Of(items[i])} used as a dict key");
            if (!dict.Nest(items[i + 1], limits.MaxNestingDepth)) throw Fail($"containers nest deeper than {limits.MaxNestingDepth} levels");
        }
    }

    void Put(uint index)
    {
        if (!memo.ContainsKey(index) && memo.Count >= limits.MaxMemoEntries) throw Fail($"more than {limits.MaxMemoEntries} memo entries");
        memo[index] = Peek();
    }

    object? Get(uint index) => memo.TryGetValue(index, out object? value) ? value : throw Fail($"memo entry {index} was never stored (corrupt pickle)");

    uint MemoIndex(string line) =>
        uint.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out uint index) ? index : throw Fail($"bad memo index '{line}'");

    T Counted<T>(T value)
    {
        Account(value switch { string s => 24 + 2L * s.Length, byte[] b => 24 + b.Length, _ => 32 });
        return value;
    }

    void Account(long bytes)
    {
        allocated += bytes;
        if (allocated > limits.MaxTotalAllocation) throw Fail($"pickle would allocate more than {limits.MaxTotalAllocation} bytes");
    }

    long NonNegative(int n) => n >= 0 ? n : throw Fail("negative length");

    static string Latin1(byte[] bytes) => Encoding.Latin1.GetString(bytes);

    object LittleEndianInteger(int length)
    {
        if (length > limits.MaxIntegerBytes) throw Fail($"integer of {length} bytes is longer than the {limits.MaxIntegerBytes}-byte limit");
        if (length == 0) return 0L;
        byte[] bytes = input.ReadBytes((ulong)length, opcodeOffset, "LONG");
        var value = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue ? (long)value : value;
    }

    object TextInteger(string text, bool allowBool)
    {
        if (allowBool && text == "01") return true;
        if (allowBool && text == "00") return false;
        if (!BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out BigInteger value))
            throw Fail($"bad integer '{SafetensorsDTypes.Shorten(text)}'");
        return value >= long.MinValue && value <= long.MaxValue ? (long)value : value;
    }

    double TextFloat(string text) => text switch
    {
        "inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        "nan" => double.NaN,
        _ => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : throw Fail($"bad float '{SafetensorsDTypes.Shorten(text)}'"),
    };
}
