using Ulmfit.Data;
using static TorchSharp.torch;

namespace Ulmfit.IO;

/// <summary>
/// A saved model: a folder holding <c>model.json</c> (<see cref="ModelManifest"/>), <c>vocab.json</c>
/// (<see cref="Data.Vocabulary"/>) and <c>weights.safetensors</c>, or the same three files in one <c>.ulmfit</c> zip
/// (<see cref="ModelPackageArchive"/>). Language models, encoders and classifiers share the format.
/// </summary>
/// <remarks>
/// Loading never executes anything and validates before it allocates: manifest (schema, ranges, kind rules), vocabulary
/// (size and hash against the manifest), the weights file's size and SHA-256, its safetensors header (see
/// <see cref="SafetensorsHeader"/>), every tensor's name and shape against the architecture, and finally NaN/infinity in
/// the values. Any failure is a <see cref="ModelFileException"/>. Saving never leaves something that loads as a half
/// package: the old manifest is removed first and the new one is written last, each file atomically.
/// A loaded package owns its tensors; dispose it (or take the tensors with <see cref="DetachWeights"/>).
/// </remarks>
public sealed class ModelPackage : IDisposable
{
    /// <summary>Largest vocabulary file accepted (10 M tokens of average length fit comfortably).</summary>
    public const long MaxVocabularyBytes = 512L << 20;

    Dictionary<string, Tensor>? weights;

    ModelPackage(ModelManifest manifest, Vocabulary vocabulary, Dictionary<string, Tensor> weights, string source)
    {
        Manifest = manifest;
        Vocabulary = vocabulary;
        this.weights = weights;
        Source = source;
    }

    /// <summary>The validated manifest.</summary>
    public ModelManifest Manifest { get; }

    /// <summary>The vocabulary (id order matches the embedding rows).</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>The folder or archive it was loaded from.</summary>
    public string Source { get; }

    /// <summary>The weights by state-dict key (<see cref="AwdLstmWeightNames"/>); owned by this package.</summary>
    public IReadOnlyDictionary<string, Tensor> Weights => weights ?? throw new ObjectDisposedException(nameof(ModelPackage));

    /// <summary>Hands the tensors to the caller (who must dispose them); the package no longer disposes them.</summary>
    public Dictionary<string, Tensor> DetachWeights()
    {
        Dictionary<string, Tensor> taken = weights ?? throw new ObjectDisposedException(nameof(ModelPackage));
        weights = null;
        return taken;
    }

    /// <summary>
    /// Writes a package into <paramref name="folder"/> (created if needed; other files in it are left alone) and
    /// returns the manifest as written (with the vocabulary and weights records, time and library version filled in).
    /// <paramref name="weights"/> is typically <c>module.state_dict()</c>. Throws <see cref="ArgumentException"/> when the
    /// manifest is incomplete or the weights do not fit its architecture (nothing is written then).
    /// </summary>
    public static ModelManifest Save(string folder, ModelManifest manifest, Vocabulary vocabulary, IReadOnlyDictionary<string, Tensor> weights)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(weights);
        if (manifest.Architecture is null) throw new ArgumentException("The manifest needs an architecture.", nameof(manifest));
        if (vocabulary.Count != manifest.Architecture.VocabSize)
            throw new ArgumentException($"The vocabulary has {vocabulary.Count} entries but architecture.vocab_size is {manifest.Architecture.VocabSize}.", nameof(vocabulary));
        List<string> shapeProblems = WeightShapeCheck.Problems(manifest.Kind, manifest.Architecture,
            weights.Select(kv => (kv.Key, (IReadOnlyList<long>)kv.Value.shape, kv.Value.is_floating_point())));
        if (shapeProblems.Count > 0) throw new ArgumentException($"The weights do not fit the manifest: {string.Join("; ", shapeProblems)}.", nameof(weights));
        ModelManifest draft = manifest with
        {
            LibraryVersion = ModelManifest.ThisLibraryVersion,
            CreatedUtc = new DateTimeOffset(DateTime.UtcNow.Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero),
            Vocabulary = new VocabularyRecord(VocabularyRecord.DefaultFile, vocabulary.Count, vocabulary.Hash),
            Weights = new WeightsRecord(WeightsRecord.DefaultFile, 8, weights.Count, new string('0', 64)),
        };
        IReadOnlyList<string> problems = draft.Problems();
        if (problems.Count > 0) throw new ArgumentException($"The manifest is not valid: {string.Join("; ", problems)}.", nameof(manifest));

        Directory.CreateDirectory(folder);
        string manifestPath = Path.Combine(folder, ModelManifest.FileName);
        string vocabularyPath = Path.Combine(folder, VocabularyRecord.DefaultFile), weightsPath = Path.Combine(folder, WeightsRecord.DefaultFile);
        // Everything is written beside the old package first, so a failure (a full disk, say) leaves the old package
        // whole; only then do renames, which need no space, swap the files in, the manifest last. Between the first
        // rename and the manifest's the folder is not a package rather than a mixed one.
        string token = Guid.NewGuid().ToString("N");
        string vocabularyTemp = Path.Combine(folder, $".{VocabularyRecord.DefaultFile}.{token}.tmp");
        string weightsTemp = Path.Combine(folder, $".{WeightsRecord.DefaultFile}.{token}.tmp");
        try
        {
            vocabulary.Save(vocabularyTemp);
            var metadata = new Dictionary<string, string>
            {
                ["format"] = "pt",
                ["ulmfit_kind"] = ModelManifestJson.KindName(manifest.Kind),
                ["ulmfit_format_version"] = ModelManifest.CurrentFormatVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            SafetensorsWriter.Write(weightsTemp, weights, metadata);
            ModelManifest final = draft with { Weights = new WeightsRecord(WeightsRecord.DefaultFile, new FileInfo(weightsTemp).Length, weights.Count, BoundedFile.Sha256(weightsTemp)) };
            byte[] json = final.ToJson();
            using var manifestFile = new AtomicFile(manifestPath);
            using (FileStream stream = manifestFile.Create())
            {
                stream.Write(json);
                stream.Flush(flushToDisk: true);
            }
            File.Delete(manifestPath);
            File.Move(vocabularyTemp, vocabularyPath, overwrite: true);
            File.Move(weightsTemp, weightsPath, overwrite: true);
            manifestFile.Commit();
            return final;
        }
        finally
        {
            foreach (string temp in new[] { vocabularyTemp, weightsTemp })
                try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Writes this package into <paramref name="folder"/> (see <see cref="Save(string, ModelManifest, Vocabulary, IReadOnlyDictionary{string, Tensor})"/>).</summary>
    public ModelManifest Save(string folder) => Save(folder, Manifest, Vocabulary, Weights);

    /// <summary>Loads and validates a package folder or <c>.ulmfit</c> archive.</summary>
    public static ModelPackage Load(string path, SafetensorsLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (File.Exists(path)) return LoadArchive(path, limits);
        string folder = path;
        ModelManifest manifest = ReadManifest(folder);
        Vocabulary vocabulary = ReadVocabulary(folder, manifest);
        string weightsPath = Path.Combine(folder, manifest.Weights!.File);
        CheckWeightsFile(weightsPath, manifest.Weights);
        using SafetensorsReader reader = SafetensorsReader.Open(weightsPath, limits);
        if (reader.Header.Tensors.Count != manifest.Weights.Tensors)
            throw new ModelFileException(weightsPath, $"holds {reader.Header.Tensors.Count} tensors but the manifest says {manifest.Weights.Tensors}");
        List<string> problems = WeightShapeCheck.Problems(manifest.Kind, manifest.Architecture,
            reader.Header.Tensors.Select(t => (t.Name, t.Shape, t.DType.IsFloatingPoint())));
        if (problems.Count > 0) throw new ModelFileException(weightsPath, string.Join("; ", problems));
        Dictionary<string, Tensor> tensors = reader.ReadAll(rejectNonFinite: true);
        return new ModelPackage(manifest, vocabulary, tensors, path);
    }

    /// <summary>Reads and validates just the manifest of a package folder or <c>.ulmfit</c> archive (cheap: for
    /// listing models or checking a kind before loading).</summary>
    public static ModelManifest ReadManifest(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (File.Exists(path)) return ModelPackageArchive.ReadManifest(path);
        if (!Directory.Exists(path)) throw new ModelFileException(path, "no such model package (neither a folder nor a .ulmfit file)");
        string manifestPath = Path.Combine(path, ModelManifest.FileName);
        if (!File.Exists(manifestPath))
            throw new ModelFileException(path, $"no {ModelManifest.FileName}: not a model package (or its save was interrupted)");
        return ModelManifest.Parse(BoundedFile.ReadAll(manifestPath, ModelManifestJson.MaxBytes), manifestPath);
    }

    static ModelPackage LoadArchive(string archivePath, SafetensorsLimits? limits)
    {
        string scratch = Path.Combine(Path.GetTempPath(), $"ulmfit-unpack-{Guid.NewGuid():N}");
        try
        {
            ModelPackageArchive.Unpack(archivePath, scratch);
            ModelPackage loaded = Load(scratch, limits);
            return new ModelPackage(loaded.Manifest, loaded.Vocabulary, loaded.DetachWeights(), archivePath);
        }
        catch (ModelFileException e) when (e.FilePath.StartsWith(scratch, StringComparison.Ordinal))
        {
            // Name the archive and its entry, not our scratch folder.
            string entry = Path.GetRelativePath(scratch, e.FilePath);
            throw new ModelFileException($"{archivePath}!{entry}", e.Offset, e.Problem, e);
        }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); }
            catch (DirectoryNotFoundException) { }
            catch (IOException) { }
        }
    }

    static Vocabulary ReadVocabulary(string folder, ModelManifest manifest)
    {
        string path = Path.Combine(folder, manifest.Vocabulary!.File);
        if (!File.Exists(path)) throw new ModelFileException(path, "the package's vocabulary file is missing");
        // Checked here because the vocabulary reader's JSON parser only notices bad UTF-8 when it reads that string.
        if (JsonErrors.FirstInvalidUtf8(BoundedFile.ReadAll(path, MaxVocabularyBytes)) is var bad and >= 0)
            throw new ModelFileException(path, bad, "vocabulary file is not valid UTF-8");
        Vocabulary vocabulary;
        try
        {
            vocabulary = Vocabulary.Load(path);
        }
        catch (InvalidInputException e)
        {
            throw new ModelFileException(path, e.Problem, e);
        }
        catch (InvalidOperationException e)
        {
            // Vocabulary.Load reads fields with JsonElement accessors, which throw this for a value of the wrong JSON
            // type (a string where a number belongs): still a malformed file, not a bug of the caller.
            throw new ModelFileException(path, $"vocabulary file is malformed: {e.Message}", e);
        }
        if (vocabulary.Count != manifest.Vocabulary.Size)
            throw new ModelFileException(path, $"vocabulary has {vocabulary.Count} entries but the manifest says {manifest.Vocabulary.Size}");
        if (vocabulary.Hash != manifest.Vocabulary.Sha256)
            throw new ModelFileException(path, "vocabulary does not match the manifest's sha256 (files from different packages, or edited)");
        return vocabulary;
    }

    static void CheckWeightsFile(string path, WeightsRecord record)
    {
        if (!File.Exists(path)) throw new ModelFileException(path, "the package's weights file is missing");
        long length = new FileInfo(path).Length;
        if (length != record.Bytes) throw new ModelFileException(path, $"weights file is {length} bytes but the manifest says {record.Bytes} (truncated or replaced)");
        if (BoundedFile.Sha256(path) != record.Sha256) throw new ModelFileException(path, "weights file does not match the manifest's sha256 (corrupt, or from another package)");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (weights is null) return;
        foreach (Tensor t in weights.Values) t.Dispose();
        weights = null;
    }
}
