using System.Diagnostics;
using System.Globalization;
using Ulmfit.Data;
using Ulmfit.IO;
using Ulmfit.Tests.Data;
using Ulmfit.Text;
using Xunit.Abstractions;

namespace Ulmfit.Tests.IO;

/// <summary>
/// Mutates valid model files (see <see cref="ByteMutator"/>) and loads them: every outcome must be a successful load
/// or a <see cref="ModelFileException"/> — never another exception, a crash, a hang or a huge allocation. About four
/// thousand cases run in the suite; <c>ULMFIT_FUZZ_SCALE=N</c> multiplies them and <c>ULMFIT_FUZZ_SEED</c> picks
/// another sequence (see docs/model-package-format.md). Failing inputs are written to the temp folder for replay.
/// </summary>
public sealed class ModelFileFuzzTests : IClassFixture<ModelFileFuzzTests.Seeds>, IDisposable
{
    readonly Seeds _seeds;
    readonly ITestOutputHelper _output;
    readonly TempDirectory _temp = new();

    public ModelFileFuzzTests(Seeds seeds, ITestOutputHelper output)
    {
        _seeds = seeds;
        _output = output;
    }

    public void Dispose() => _temp.Dispose();

    static int Scale => int.TryParse(Environment.GetEnvironmentVariable("ULMFIT_FUZZ_SCALE"), NumberStyles.None, CultureInfo.InvariantCulture, out int s) && s > 0 ? s : 1;

    static int BaseSeed => int.TryParse(Environment.GetEnvironmentVariable("ULMFIT_FUZZ_SEED"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int s) ? s : 20_240_611;

    /// <summary>Valid files to start from: a tiny language-model package (folder and archive) and the fastai fixtures.</summary>
    public sealed class Seeds : IDisposable
    {
        readonly TempDirectory _temp = new();

        public Seeds()
        {
            using var module = new AwdLstmShapedModule(AwdLstmShapedModule.TinySpec(), seed: 1);
            Folder = _temp.PathOf("lm");
            var manifest = new ModelManifest
            {
                Kind = ModelKind.LanguageModel,
                Architecture = module.Spec,
                Tokenizer = TokenizerSpec.From(UlmfitTokenizer.Default),
                Metrics = new Dictionary<string, double> { ["valid_loss"] = 3.25 },
            };
            var vocabulary = Vocabulary.FromTokens(SpecialTokens.All.Concat(Enumerable.Range(0, 7).Select(i => $"w{i}")));
            ModelPackage.Save(Folder, manifest, vocabulary, module.state_dict());
            Archive = _temp.PathOf("lm.ulmfit");
            ModelPackageArchive.Pack(Folder, Archive);
        }

        public string Folder { get; }
        public string Archive { get; }
        public byte[] Bytes(string name) => File.ReadAllBytes(Path.Combine(Folder, name));
        public void Dispose() => _temp.Dispose();
    }

    sealed record Outcome(int Cases, int Accepted, List<string> Failures, double SlowestMs, long MostAllocated);

    Outcome Fuzz(string target, int cases, IReadOnlyList<byte[]> originals, Action<byte[]> load, bool structural = false)
    {
        var failures = new List<string>();
        int accepted = 0;
        double slowest = 0;
        long mostAllocated = 0;
        for (int i = 0; i < cases; i++)
        {
            // string.GetHashCode is randomised per process; this one is stable, so a case number means the same input.
            int targetSalt = target.Aggregate(17, (h, c) => unchecked(h * 31 + c));
            var random = new Random(unchecked(BaseSeed * 7919 + i * 104_729 + targetSalt));
            byte[] original = originals[i % originals.Count];
            string what;
            byte[] input = structural ? new JsonMutator(random).Mutate(original, out what) : new ByteMutator(random).Mutate(original, out what);
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            long started = Stopwatch.GetTimestamp();
            try
            {
                load(input);
                accepted++;
            }
            catch (ModelFileException)
            {
                // The documented outcome for a bad file.
            }
            catch (Exception e)
            {
                string saved = Path.Combine(Path.GetTempPath(), $"ulmfit-fuzz-{target}-{BaseSeed}-{i}.bin");
                File.WriteAllBytes(saved, input);
                failures.Add($"case {i} ({what}; input saved to {saved}): {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
            slowest = Math.Max(slowest, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            mostAllocated = Math.Max(mostAllocated, GC.GetAllocatedBytesForCurrentThread() - allocatedBefore);
        }
        var outcome = new Outcome(cases, accepted, failures, slowest, mostAllocated);
        _output.WriteLine($"{target}: {cases} cases, {accepted} loaded, {cases - accepted - failures.Count} refused, {failures.Count} unhandled; slowest {slowest:F1} ms, most allocated {mostAllocated / 1024} KiB");
        Assert.True(failures.Count == 0, $"{failures.Count} unhandled exception(s) in {target}:\n" + string.Join("\n\n", failures.Take(5)));
        Assert.True(slowest < 5_000, $"{target}: a case took {slowest:F0} ms");
        Assert.True(mostAllocated < 64L << 20, $"{target}: a case allocated {mostAllocated} bytes");
        return outcome;
    }

    [Fact]
    public void Mutated_safetensors_files_load_or_fail_cleanly()
    {
        Outcome o = Fuzz("safetensors", 2000 * Scale, [_seeds.Bytes("weights.safetensors")], bytes =>
        {
            using var reader = SafetensorsReader.Open(new MemoryStream(bytes), "fuzz.safetensors");
            foreach (var t in reader.ReadAll().Values) t.Dispose();
        });
        Assert.InRange(o.Accepted, 1, o.Cases - 1); // some mutations keep it valid, most do not
    }

    [Fact]
    public void Mutated_manifests_parse_or_fail_cleanly() =>
        Fuzz("manifest", 1000 * Scale, [_seeds.Bytes("model.json")], bytes => ModelManifest.Parse(bytes, "fuzz.json"));

    [Fact]
    public void Manifests_with_fields_removed_renamed_or_retyped_parse_or_fail_cleanly()
    {
        Outcome o = Fuzz("manifest-schema", 1000 * Scale, [_seeds.Bytes("model.json")], bytes => ModelManifest.Parse(bytes, "fuzz.json"), structural: true);
        Assert.InRange(o.Accepted, 1, o.Cases / 2); // optional fields may go; most edits must be caught
    }

    [Fact]
    public void Safetensors_headers_with_fields_removed_renamed_or_retyped_load_or_fail_cleanly()
    {
        byte[] file = _seeds.Bytes("weights.safetensors");
        int headerLength = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(file);
        byte[] header = file[8..(8 + headerLength)], data = file[(8 + headerLength)..];
        Fuzz("safetensors-schema", 1000 * Scale, [header], json =>
        {
            var bytes = new byte[8 + json.Length + data.Length];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
            json.CopyTo(bytes, 8);
            data.CopyTo(bytes, 8 + json.Length);
            using var reader = SafetensorsReader.Open(new MemoryStream(bytes), "fuzz.safetensors");
            foreach (var t in reader.ReadAll().Values) t.Dispose();
        }, structural: true);
    }

    [Fact]
    public void Mutated_package_folders_load_or_fail_cleanly()
    {
        string[] names = [ModelManifest.FileName, VocabularyRecord.DefaultFile, WeightsRecord.DefaultFile];
        byte[][] originals = [.. names.Select(_seeds.Bytes)];
        int next = 0;
        Fuzz("package", 200 * Scale, originals, bytes =>
        {
            // One damaged file per case, the other two intact.
            string folder = _temp.PathOf($"p{next}");
            Directory.CreateDirectory(folder);
            for (int k = 0; k < names.Length; k++)
                File.WriteAllBytes(Path.Combine(folder, names[k]), k == next % names.Length ? bytes : originals[k]);
            next++;
            try { ModelPackage.Load(folder).Dispose(); }
            finally { Directory.Delete(folder, recursive: true); }
        });
    }

    [Fact]
    public void Mutated_ulmfit_archives_load_or_fail_cleanly() =>
        Fuzz("archive", 200 * Scale, [File.ReadAllBytes(_seeds.Archive)], bytes =>
        {
            string path = _temp.PathOf("fuzz.ulmfit");
            File.WriteAllBytes(path, bytes);
            ModelPackage.Load(path).Dispose();
        });

    [SkippableFact]
    public void Mutated_pytorch_files_import_or_fail_cleanly()
    {
        Skip.If(FastaiFixtures.Folder is null, FastaiFixtures.SkipReason);
        byte[][] originals = [.. FastaiFixtures.WeightFiles.Select(f => File.ReadAllBytes(FastaiFixtures.PathOf(f)))];
        IReadOnlyList<string> itos = FastaiFixtures.Values.Vocab;
        Fuzz("pth", 2000 * Scale, originals, bytes =>
        {
            TorchStateDict sd = TorchStateDictReader.Read(new MemoryStream(bytes), "fuzz.pth");
            FastaiImporter.Convert(sd, itos, "itos.pkl").Dispose();
        });
    }

    [SkippableFact]
    public void Mutated_vocabulary_pickles_load_or_fail_cleanly()
    {
        Skip.If(FastaiFixtures.Folder is null, FastaiFixtures.SkipReason);
        byte[][] originals = [.. new[] { "itos.pkl", "itos_protocol2.pkl", "hostile.pkl" }.Select(f => File.ReadAllBytes(FastaiFixtures.PathOf(f)))];
        Fuzz("pickle", 1000 * Scale, originals, bytes => RestrictedUnpickler.Load(bytes, "fuzz.pkl", allowOrderedDict: true));
    }
}
