using System.Text.Json;
using Ulmfit.Tests.Data;

namespace Ulmfit.Tests.IO;

/// <summary>The fastai-layout fixtures in ../shared/fixtures/fastai and their expected tensors.</summary>
static class FastaiFixtures
{
    public static string? Folder => SharedData.Folder is { } shared && Directory.Exists(Path.Combine(shared, "fixtures", "fastai"))
        ? Path.Combine(shared, "fixtures", "fastai") : null;

    public static string SkipReason => "../shared/fixtures/fastai is not available";

    public static string PathOf(string name) => Path.Combine(Folder!, name);

    public static readonly string[] WeightFiles = ["lm_legacy.pth", "lm_zip.pth", "lm_wrapped_legacy.pth", "lm_wrapped_zip.pth", "lm_with_module_hh_legacy.pth"];

    static readonly Lazy<Expected> Loaded = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(PathOf("expected.json")));
        var vocab = doc.RootElement.GetProperty("vocab").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var tensors = new Dictionary<string, (long[] Shape, float[] Values)>();
        foreach (JsonProperty p in doc.RootElement.GetProperty("tensors").EnumerateObject())
        {
            long[] shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            // The values are float32 printed as doubles: converting back is exact.
            float[] values = p.Value.GetProperty("values").EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
            tensors[p.Name] = (shape, values);
        }
        return new Expected(vocab, tensors);
    });

    public static Expected Values => Loaded.Value;

    public sealed record Expected(string[] Vocab, Dictionary<string, (long[] Shape, float[] Values)> Tensors);
}
