using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Ulmfit.IO;
using Ulmfit.Tests.Data;
using static TorchSharp.torch;

namespace Ulmfit.Tests.IO;

public sealed class SafetensorsTests : IDisposable
{
    readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    static Dictionary<string, Tensor> MixedTensors() => new()
    {
        ["b.weight"] = TestTensors.Random(1, 3, 4),
        ["a.bias"] = TestTensors.Random(2, 5),
        ["steps"] = tensor(new long[] { 7, -3 }),
        ["half"] = TestTensors.Random(3, 3).to_type(ScalarType.Float16),
        ["flags"] = tensor(new[] { true, false, true }),
        ["scalar"] = tensor(2.5f),
        ["empty"] = zeros(0, 4),
    };

    [Fact]
    public void Tensors_survive_a_round_trip_bit_for_bit_with_their_types_and_shapes()
    {
        var tensors = MixedTensors();
        string path = _temp.PathOf("w.safetensors");
        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });

        using var reader = SafetensorsReader.Open(path);
        Assert.Equal("pt", reader.Header.Metadata["format"]);
        var back = reader.ReadAll();
        Assert.Equal(tensors.Keys.Order(), back.Keys.Order());
        foreach ((string name, Tensor t) in tensors) Assert.True(TestTensors.Identical(t, back[name]), name);
    }

    [Fact]
    public void The_same_tensors_give_the_same_bytes_in_any_order_and_the_data_starts_8_byte_aligned()
    {
        var tensors = MixedTensors();
        string first = _temp.PathOf("1.safetensors"), second = _temp.PathOf("2.safetensors");
        SafetensorsWriter.Write(first, tensors);
        SafetensorsWriter.Write(second, tensors.Reverse());

        byte[] bytes = File.ReadAllBytes(first);
        Assert.Equal(bytes, File.ReadAllBytes(second));
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, (8 + headerLength) % 8);
        using var reader = SafetensorsReader.Open(first);
        // Larger elements first, so each tensor's offset is a multiple of its element size.
        Assert.All(reader.Header.Tensors, t => Assert.Equal(0, t.Begin % t.DType.ElementSize()));
        Assert.Equal(["a.bias", "b.weight", "half"], reader.Header.Tensors.Where(t => t.DType is SafetensorsDType.F32 or SafetensorsDType.F16 && t.ElementCount > 1).Select(t => t.Name));
    }

    [Fact]
    public void Writing_refuses_non_finite_values_unless_asked_and_leaves_no_file()
    {
        string path = _temp.PathOf("nan.safetensors");
        using var bad = tensor(new[] { 1f, float.NaN });
        var e = Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [new("w", bad)]));
        Assert.Contains("'w'", e.Message);
        Assert.Empty(TempDirectory.FilesIn(_temp.Root));

        SafetensorsWriter.Write(path, [new("w", bad)], allowNonFinite: true);
        var reading = Assert.Throws<ModelFileException>(() => SafetensorsReader.Load(path));
        Assert.Contains("tensor 'w' has 1 non-finite value", reading.Message);
        using var loaded = SafetensorsReader.Load(path, rejectNonFinite: false)["w"];
        Assert.True(float.IsNaN(TestTensors.Values(loaded)[1]));
    }

    /// <summary>A file with <paramref name="header"/> (JSON) and <paramref name="dataLength"/> zero bytes of data.</summary>
    string Craft(string header, int dataLength, ulong? declaredLength = null)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataLength];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        return _temp.WriteBytes($"{Guid.NewGuid():N}.safetensors", bytes);
    }

    static string Error(string path) => Assert.Throws<ModelFileException>(() => SafetensorsReader.Load(path)).Message;

    [Theory]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8)]
    [InlineData("""{"__metadata__":{"k":"v"},"w":{"dtype":"BF16","shape":[],"data_offsets":[0,2]}}""", 2)]
    [InlineData("""{"e":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},"w":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}}""", 1)]
    public void A_valid_hand_written_file_is_accepted(string header, int data)
    {
        using var reader = SafetensorsReader.Open(Craft(header, data));
        var all = reader.ReadAll();
        Assert.NotEmpty(all);
        foreach (var t in all.Values) t.Dispose();
    }

    [Theory]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4, "truncated")]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 12, "4 bytes after the last tensor")]
    [InlineData("""{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, "needs 12 bytes")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "overlaps")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "gap in the data buffer: bytes [0, 4)")]
    [InlineData("""{"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}""", 1, "unknown dtype 'Q4'")]
    [InlineData("""{"w":{"dtype":"U16","shape":[1],"data_offsets":[0,2]}}""", 2, "not supported")]
    [InlineData("""{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}""", 8, "overflows")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1048576,1048576],"data_offsets":[0,8]}}""", 8, "limit per tensor")]
    [InlineData("""{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4, "non-negative")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}""", 4, "non-negative 64-bit integer")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}""", 4, "before begin")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}""", 4, "unknown field 'extra'")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1]}}""", 4, "missing 'data_offsets'")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "declared twice")]
    [InlineData("""{"__metadata__":{"k":3}}""", 0, "must be a string")]
    [InlineData("""{"w":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}}""", 1, null)]
    [InlineData("""[1,2]""", 0, "starting with '{'")]
    [InlineData("""{"w": """, 0, "not valid JSON")]
    public void A_bad_header_is_refused_with_a_message_that_names_the_problem(string header, int data, string? expected)
    {
        string path = Craft(header, data);
        if (expected is null)
        {
            // BOOL data: the crafted zero byte is valid; make it 2 to check the value rule.
            byte[] bytes = File.ReadAllBytes(path);
            bytes[^1] = 2;
            File.WriteAllBytes(path, bytes);
            expected = "only 0 and 1 are valid";
        }
        Assert.Contains(expected, Error(path));
    }

    [Fact]
    public void Huge_or_impossible_header_lengths_are_refused_before_anything_is_allocated()
    {
        string header = """{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""";
        Assert.Contains("exceeds the 100000000-byte limit", Error(Craft(header, 4, declaredLength: ulong.MaxValue)));
        Assert.Contains("longer than the rest of the file", Error(Craft(header, 4, declaredLength: 90_000_000)));
        Assert.Contains("too short", Error(_temp.WriteBytes("short.safetensors", [1, 2, 3])));
        var tight = new SafetensorsLimits { MaxHeaderBytes = 16 };
        Assert.Throws<ModelFileException>(() => SafetensorsReader.Open(Craft(header, 4), tight));
    }

    [Fact]
    public void The_header_written_is_the_documented_json_layout()
    {
        string path = _temp.PathOf("doc.safetensors");
        using var w = TestTensors.Random(4, 2, 3);
        SafetensorsWriter.Write(path, [new("layer.weight", w)], new Dictionary<string, string> { ["kind"] = "test" });
        byte[] bytes = File.ReadAllBytes(path);
        int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, length));
        Assert.Equal("test", doc.RootElement.GetProperty("__metadata__").GetProperty("kind").GetString());
        JsonElement entry = doc.RootElement.GetProperty("layer.weight");
        Assert.Equal("F32", entry.GetProperty("dtype").GetString());
        Assert.Equal([2L, 3L], entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal([0L, 24L], entry.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(8 + length + 24, bytes.Length);
        Assert.Equal(TestTensors.Values(w), MemoryMarshalFloats(bytes.AsSpan(8 + length)));
    }

    static float[] MemoryMarshalFloats(ReadOnlySpan<byte> bytes)
    {
        var result = new float[bytes.Length / 4];
        for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
        return result;
    }
}
