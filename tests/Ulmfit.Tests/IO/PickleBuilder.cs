using System.Buffers.Binary;
using System.Text;

namespace Ulmfit.Tests.IO;

/// <summary>Writes pickle opcodes by hand, to craft the variants and attacks the tests need.</summary>
sealed class PickleBuilder
{
    readonly MemoryStream bytes = new();

    public PickleBuilder Op(byte op) { bytes.WriteByte(op); return this; }

    public PickleBuilder Op(char op) => Op((byte)op);

    public PickleBuilder Raw(params byte[] data) { bytes.Write(data); return this; }

    public PickleBuilder Proto(byte version) => Op(0x80).Raw(version);

    public PickleBuilder Text(string line) => Raw(Encoding.ASCII.GetBytes(line + "\n"));

    public PickleBuilder Global(string module, string name) => Op('c').Text(module).Text(name);

    public PickleBuilder Str(string value)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(value);
        var length = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)utf8.Length);
        return Op('X').Raw(length).Raw(utf8);
    }

    public PickleBuilder Int(int value)
    {
        var data = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(data, value);
        return Op('J').Raw(data);
    }

    public PickleBuilder U32(uint value)
    {
        var data = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(data, value);
        return Raw(data);
    }

    public PickleBuilder Stop() => Op('.');

    public byte[] ToArray() => bytes.ToArray();

    /// <summary>A protocol-2 pickle of a list of strings (fastai's itos file layout).</summary>
    public static byte[] StringList(IEnumerable<string> items)
    {
        var b = new PickleBuilder().Proto(2).Op(']').Op('(');
        foreach (string s in items) b.Str(s);
        return b.Op('e').Stop().ToArray();
    }
}
