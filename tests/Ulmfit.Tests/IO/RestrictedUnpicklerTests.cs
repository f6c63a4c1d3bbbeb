using Ulmfit.IO;

namespace Ulmfit.Tests.IO;

public sealed class RestrictedUnpicklerTests
{
    static ModelFileException Refused(byte[] pickle, PickleLimits? limits = null) =>
        Assert.Throws<ModelFileException>(() => RestrictedUnpickler.Load(pickle, "test.pkl", limits: limits));

    [SkippableFact]
    public void The_fixture_vocabularies_in_protocols_2_and_4_read_as_the_same_list_of_strings()
    {
        Skip.If(FastaiFixtures.Folder is null, FastaiFixtures.SkipReason);
        var v4 = RestrictedUnpickler.LoadStringList(FastaiFixtures.PathOf("itos.pkl"));
        var v2 = RestrictedUnpickler.LoadStringList(FastaiFixtures.PathOf("itos_protocol2.pkl"));
        Assert.Equal(FastaiFixtures.Values.Vocab, v4);
        Assert.Equal(v4, v2);
    }

    [SkippableFact]
    public void The_hostile_fixture_is_refused_at_its_global_naming_os_system_without_running_it()
    {
        Skip.If(FastaiFixtures.Folder is null, FastaiFixtures.SkipReason);
        string marker = Path.Combine(Environment.CurrentDirectory, "hostile-pickle-executed");
        var e = Assert.Throws<ModelFileException>(() => RestrictedUnpickler.LoadStringList(FastaiFixtures.PathOf("hostile.pkl")));
        Assert.Contains("refusing global 'os.system'", e.Message);
        Assert.Equal(0, e.Offset);
        Assert.False(File.Exists(marker));
    }

    [Theory]
    [InlineData("os", "system")]
    [InlineData("posix", "system")]
    [InlineData("builtins", "eval")]
    [InlineData("subprocess", "Popen")]
    [InlineData("torch._utils", "_rebuild_tensor_v2")] // allowed only in state dicts, not in plain data
    public void Any_global_in_a_plain_data_pickle_is_refused_by_name_and_offset(string module, string name)
    {
        byte[] pickle = new PickleBuilder().Proto(2).Op(']').Global(module, name).Op(')').Op('R').Op('a').Stop().ToArray();
        var e = Refused(pickle);
        Assert.Contains($"'{module}.{name}'", e.Message);
        Assert.Equal(3, e.Offset);
    }

    [Fact]
    public void Stack_global_is_checked_like_global()
    {
        byte[] pickle = new PickleBuilder().Proto(4).Str("os").Str("system").Op(0x93).Stop().ToArray();
        Assert.Contains("'os.system'", Refused(pickle).Message);
    }

    [Theory]
    [InlineData((byte)'i', "INST")]
    [InlineData((byte)'o', "OBJ")]
    [InlineData((byte)0x81, "NEWOBJ")]
    [InlineData((byte)0x92, "NEWOBJ_EX")]
    [InlineData((byte)0x82, "EXT1")]
    [InlineData((byte)0x97, "NEXT_BUFFER")]
    [InlineData((byte)'S', "STRING")]
    [InlineData((byte)0xff, "unknown pickle opcode 0xff")]
    public void Object_building_and_unknown_opcodes_are_refused_by_name(byte opcode, string name)
    {
        var e = Refused(new PickleBuilder().Proto(2).Op(opcode).Stop().ToArray());
        Assert.Contains(name, e.Message);
        Assert.Equal(2, e.Offset);
    }

    [Fact]
    public void Plain_data_of_every_kind_is_rebuilt()
    {
        byte[] pickle = new PickleBuilder().Proto(2).Op('}').Op('(')
            .Str("n").Op('N').Str("t").Op(0x88).Str("i").Int(-7).Str("big").Op(0x8a).Raw(9, 0, 0, 0, 0, 0, 0, 0, 0, 1)
            .Str("f").Op('G').Raw(0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18)
            .Str("l").Op(']').Op('(').Str("a").Op('K').Raw(2).Op('e')
            .Str("tup").Op('K').Raw(1).Op('K').Raw(2).Op(0x86)
            .Op('u').Stop().ToArray();
        var dict = Assert.IsType<PickleDict>(RestrictedUnpickler.Load(pickle, "t"));
        Assert.True(dict.TryGetValue("n", out object? none) && none is null);
        Assert.True(dict.TryGetValue("t", out object? t) && t is true);
        Assert.True(dict.TryGetValue("i", out object? i) && i is -7L);
        Assert.True(dict.TryGetValue("big", out object? big) && big is System.Numerics.BigInteger b && b == System.Numerics.BigInteger.Pow(2, 64));
        Assert.True(dict.TryGetValue("f", out object? f) && f is Math.PI);
        Assert.True(dict.TryGetValue("l", out object? l) && l is PickleList { Values: ["a", 2L] });
        Assert.True(dict.TryGetValue("tup", out object? tup) && tup is PickleTuple { Count: 2 });
    }

    [Fact]
    public void Truncation_anywhere_is_a_clear_error()
    {
        byte[] whole = PickleBuilder.StringList(["xxunk", "xxpad", "hello"]);
        for (int length = 0; length < whole.Length; length++)
        {
            var e = Refused(whole[..length]);
            Assert.StartsWith("test.pkl: byte", e.Message);
        }
    }

    [Fact]
    public void Huge_declared_lengths_are_refused_before_allocating()
    {
        byte[] pickle = new PickleBuilder().Proto(4).Op(0x8d).Raw(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f).Stop().ToArray();
        Assert.Contains("more than the", Refused(pickle).Message);
        byte[] shortOne = new PickleBuilder().Proto(2).Op('X').U32(1000).Raw(1, 2, 3).Stop().ToArray();
        Assert.Contains("only 4 remain", Refused(shortOne).Message);
        byte[] long4 = new PickleBuilder().Proto(2).Op(0x8b).U32(1_000_000).Stop().ToArray();
        Assert.Contains("integer of 1000000 bytes", Refused(long4).Message);
    }

    [Fact]
    public void Memo_nesting_and_allocation_caps_hold()
    {
        var deep = new PickleBuilder().Proto(2);
        for (int i = 0; i < 50; i++) deep.Op(']');
        for (int i = 0; i < 49; i++) deep.Op('a');
        byte[] nested = deep.Stop().ToArray();
        Assert.IsType<PickleList>(RestrictedUnpickler.Load(nested, "t"));
        Assert.Contains("nest deeper than 10", Refused(nested, new PickleLimits { MaxNestingDepth = 10 }).Message);

        var memo = new PickleBuilder().Proto(2).Op('N');
        for (uint i = 0; i < 20; i++) memo.Op('r').U32(i * 1000);
        Assert.Contains("more than 10 memo entries", Refused(memo.Stop().ToArray(), new PickleLimits { MaxMemoEntries = 10 }).Message);

        var strings = new PickleBuilder().Proto(2).Op(']');
        for (int i = 0; i < 100; i++) strings.Str(new string('x', 100)).Op('a');
        Assert.Contains("allocate more than", Refused(strings.Stop().ToArray(), new PickleLimits { MaxTotalAllocation = 10_000 }).Message);
    }

    [Fact]
    public void A_list_that_contains_itself_is_read_without_looping()
    {
        // l = []; l.append(l): memo makes cycles possible; nothing here walks them recursively.
        byte[] pickle = new PickleBuilder().Proto(2).Op(']').Op('q').Raw(0).Op('h').Raw(0).Op('a').Stop().ToArray();
        var list = Assert.IsType<PickleList>(RestrictedUnpickler.Load(pickle, "t"));
        Assert.Same(list, list.Values[0]);
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 2, (byte)'h', 5, (byte)'.' }, "memo entry 5 was never stored")]
    [InlineData(new byte[] { 0x80, 2, (byte)'a', (byte)'.' }, "stack underflow")]
    [InlineData(new byte[] { 0x80, 2, (byte)'e', (byte)'.' }, "no MARK")]
    [InlineData(new byte[] { 0x80, 2, (byte)'.' }, "STOP with nothing")]
    [InlineData(new byte[] { 0x80, 2, (byte)'N', (byte)'N', (byte)'R', (byte)'.' }, "REDUCE calls a None")]
    [InlineData(new byte[] { 0x80, 2, (byte)'}', (byte)']', (byte)'N', (byte)'s', (byte)'.' }, "unhashable list")]
    [InlineData(new byte[] { 0x80, 2, (byte)']', (byte)'}', (byte)'b', (byte)'.' }, "BUILD may only")]
    [InlineData(new byte[] { 0x80, 2, (byte)'X', 2, 0, 0, 0, 0xc3, 0x28, (byte)'.' }, "not valid UTF-8")]
    public void Corrupt_structure_is_a_clear_error(byte[] pickle, string expected) =>
        Assert.Contains(expected, Refused(pickle).Message);
}
