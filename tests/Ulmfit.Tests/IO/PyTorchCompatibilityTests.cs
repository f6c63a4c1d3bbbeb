using System.Text.Json;
using Ulmfit.IO;
using Ulmfit.Tests.Data;
using static TorchSharp.torch;

namespace Ulmfit.Tests.IO;

/// <summary>Our files as PyTorch sees them, and PyTorch's files as we see them (skipped without Python + torch).</summary>
public sealed class PyTorchCompatibilityTests : IDisposable
{
    readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    // The standard loader when it is installed; otherwise the format read by hand, as the documentation describes it.
    const string LoadSafetensors = """
import json, struct, sys, torch
path = sys.argv[1]
try:
    from safetensors.torch import load_file
    tensors = load_file(path)
except ImportError:
    types = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
             "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        raw = bytearray(data[8 + n + begin: 8 + n + end])
        tensors[name] = torch.frombuffer(raw, dtype=types[info["dtype"]]).reshape(info["shape"]) if raw else torch.zeros(info["shape"], dtype=types[info["dtype"]])
print(json.dumps({k: {"dtype": str(v.dtype), "shape": list(v.shape), "values": v.double().flatten().tolist()} for k, v in tensors.items()}))
""";

    [SkippableFact]
    public void A_package_written_by_us_loads_in_pytorch_with_the_documented_key_names_and_exact_values()
    {
        Skip.If(!PythonTorch.Available, PythonTorch.SkipReason);
        using var module = new AwdLstmShapedModule(AwdLstmShapedModule.TinySpec(), seed: 3);
        var weights = module.state_dict();
        string path = _temp.PathOf("weights.safetensors");
        var extra = new Dictionary<string, Tensor>(weights)
        {
            ["x.half"] = TestTensors.Random(5, 3).to_type(ScalarType.Float16),
            ["x.bf16"] = TestTensors.Random(6, 2, 2).to_type(ScalarType.BFloat16),
            ["x.steps"] = tensor(new long[] { 1, -2, 3 }),
            ["x.mask"] = tensor(new[] { true, false }),
        };
        SafetensorsWriter.Write(path, extra);

        using var doc = JsonDocument.Parse(PythonTorch.RunChecked(LoadSafetensors, path));
        Assert.Equal(extra.Keys.Order(StringComparer.Ordinal), doc.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Contains(AwdLstmWeightNames.Embedding, extra.Keys);
        foreach ((string name, Tensor t) in extra)
        {
            JsonElement seen = doc.RootElement.GetProperty(name);
            Assert.Equal(t.shape, seen.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
            double[] expected = t.to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
            Assert.Equal(expected, seen.GetProperty("values").EnumerateArray().Select(e => e.GetDouble()));
        }
        Assert.Equal("torch.bfloat16", doc.RootElement.GetProperty("x.bf16").GetProperty("dtype").GetString());
    }

    const string SaveStateDicts = """
import json, sys, torch
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Embedding(7, 3), torch.nn.LSTM(3, 4), torch.nn.Linear(4, 7))
opt = torch.optim.Adam(net.parameters())
net[2](net[1](net[0](torch.tensor([[1, 2]]))[0])[0]).sum().backward()
opt.step()
state = net.state_dict()
out = sys.argv[1]
torch.save(state, out + "/bare_zip.pth")
torch.save(state, out + "/bare_legacy.pth", _use_new_zipfile_serialization=False)
torch.save({"model": state, "opt": opt.state_dict()}, out + "/wrapped_zip.pth")
torch.save({"model": state, "opt": opt.state_dict()}, out + "/wrapped_legacy.pth", _use_new_zipfile_serialization=False)
view = {"t": torch.arange(12.).reshape(3, 4).t(), "row": torch.arange(12.).reshape(3, 4)[1], "d": torch.arange(3, dtype=torch.float64)}
torch.save(view, out + "/views_zip.pth")
torch.save(view, out + "/views_legacy.pth", _use_new_zipfile_serialization=False)
expected = {k: v.double().flatten().tolist() for k, v in list(state.items()) + list(view.items())}
print(json.dumps(expected))
""";

    [SkippableFact]
    public void State_dicts_saved_by_pytorch_in_both_formats_read_with_exact_values()
    {
        Skip.If(!PythonTorch.Available, PythonTorch.SkipReason);
        using var doc = JsonDocument.Parse(PythonTorch.RunChecked(SaveStateDicts, _temp.Root));
        foreach (string file in new[] { "bare_zip.pth", "bare_legacy.pth", "wrapped_zip.pth", "wrapped_legacy.pth", "views_zip.pth", "views_legacy.pth" })
        {
            TorchStateDict sd = TorchStateDictReader.Read(_temp.PathOf(file));
            Assert.Equal(file.StartsWith("wrapped", StringComparison.Ordinal), sd.WasWrapped);
            Assert.Equal(file.Contains("zip") ? "zip" : "legacy", sd.Format);
            Assert.NotEmpty(sd.Keys);
            foreach (string key in sd.Keys)
            {
                double[] expected = doc.RootElement.GetProperty(key).EnumerateArray().Select(e => e.GetDouble()).ToArray();
                Assert.Equal(expected.Select(v => (float)v), sd.Tensors[key].ToFloatArray());
                using Tensor t = sd.Tensors[key].ToTensor();
                Assert.Equal(expected.Select(v => (float)v), TestTensors.Values(t));
            }
            if (file.StartsWith("wrapped", StringComparison.Ordinal)) Assert.Contains("opt", sd.OtherTopLevelKeys);
        }
        Assert.False(TorchStateDictReader.Read(_temp.PathOf("views_zip.pth")).Tensors["t"].IsContiguous);
    }
}
