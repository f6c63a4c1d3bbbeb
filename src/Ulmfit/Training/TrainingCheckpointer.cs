using Microsoft.Extensions.Logging;
using Ulmfit.Data;
using Ulmfit.Modeling;

namespace Ulmfit.Training;

/// <summary>
/// Saves and restores everything a language-model run needs to continue bit-for-bit: model weights, AdamW state
/// (moments and step counts), libtorch's random generator, the model's carried recurrent state (when the model
/// offers <see cref="IRecurrentStateSnapshots"/>) and the manifest (step, data position, statistics, results).
/// </summary>
internal sealed class TrainingCheckpointer(CheckpointStore store, ILanguageModel model, LayerGroupOptimizer optimizer)
{
    const string ModelFile = "model.bin";
    const string OptimizerFile = "optimizer.bin";
    const string TorchRandomFile = "torch-random.bin";
    const string RecurrentStateFile = "recurrent-state.bin";

    public CheckpointStore Store => store;

    /// <summary>Writes a checkpoint atomically; returns its folder.</summary>
    public string Save(CheckpointManifest manifest)
    {
        var snapshots = model as IRecurrentStateSnapshots;
        var recurrent = snapshots?.CaptureState();
        try
        {
            var complete = manifest with
            {
                HasRecurrentState = recurrent is not null, SavedAt = DateTimeOffset.UtcNow, ParameterShapes = ParameterShapes(),
            };
            return store.Save(manifest.Step, complete, folder =>
            {
                model.Module.save(Path.Combine(folder, ModelFile));
                optimizer.Save(Path.Combine(folder, OptimizerFile));
                TensorStateFiles.SaveTorchRandom(Path.Combine(folder, TorchRandomFile));
                if (recurrent is not null) TensorStateFiles.SaveTensors(Path.Combine(folder, RecurrentStateFile), recurrent);
            });
        }
        finally
        {
            if (recurrent is not null) foreach (var t in recurrent) t.Dispose();
        }
    }

    /// <summary>
    /// Loads the newest readable checkpoint into the model, the optimizer and libtorch's generator and returns its
    /// manifest, or returns null when the store holds none. <paramref name="check"/> sees each manifest first and
    /// throws when the run's settings differ (an older checkpoint of the same run would not fit either), and the
    /// model's tensor shapes are compared with the ones recorded. A checkpoint whose files cannot be read back (cut
    /// short or missing, as after a disk fault) is skipped with a warning naming it, and the next older one is used.
    /// </summary>
    /// <exception cref="InvalidInputException">The checkpoint was made with other settings or another model size.</exception>
    /// <exception cref="InvalidDataException">No checkpoint of the store can be read; names the newest one's problem.</exception>
    public CheckpointManifest? LoadLatest(Action<CheckpointManifest> check, ILogger logger)
    {
        var folders = store.FindAll().Reverse().ToList(); // newest first
        if (folders.Count == 0) return null;
        InvalidDataException? newest = null;
        foreach (string folder in folders)
        {
            try
            {
                var manifest = Unreadable(Path.Combine(folder, CheckpointStore.ManifestFile), () => CheckpointStore.ReadManifest(folder));
                check(manifest);
                CheckShapes(manifest, folder);
                LoadTensors(folder, manifest);
                if (newest is not null)
                    logger.LogWarning("Resuming from the older checkpoint {Checkpoint} (step {Step})", folder, manifest.Step);
                return manifest;
            }
            catch (InvalidDataException e)
            {
                newest ??= e;
                logger.LogWarning("Checkpoint {Checkpoint} cannot be read: {Problem}", folder, e.Message);
            }
        }
        throw new InvalidDataException($"no checkpoint in {store.Directory} can be read; the newest: {newest!.Message}", newest);
    }

    void LoadTensors(string folder, CheckpointManifest manifest)
    {
        string weights = Path.Combine(folder, ModelFile);
        if (!File.Exists(weights)) throw new InvalidDataException($"{weights}: checkpoint has no model weights");
        Unreadable(weights, () => model.Module.load(weights));
        string moments = Path.Combine(folder, OptimizerFile);
        Unreadable(moments, () => optimizer.Load(moments));
        string random = Path.Combine(folder, TorchRandomFile);
        Unreadable(random, () => TensorStateFiles.LoadTorchRandom(random));

        model.ResetState();
        if (manifest.HasRecurrentState && model is IRecurrentStateSnapshots snapshots)
        {
            string path = Path.Combine(folder, RecurrentStateFile);
            var state = Unreadable(path, () => TensorStateFiles.LoadTensors(path));
            try { snapshots.RestoreState(state); }
            finally { foreach (var t in state) t.Dispose(); }
        }
    }

    // A file that is cut short, missing or garbled surfaces as one of these from TorchSharp and our readers; each
    // becomes an InvalidDataException that names the file.
    static T Unreadable<T>(string path, Func<T> read)
    {
        try { return read(); }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidDataException or FormatException)
        {
            string problem = e is EndOfStreamException ? "cut short (the file ends before its data do)" : e.Message;
            string message = problem.StartsWith(path, StringComparison.Ordinal) ? problem : $"{path}: {problem}";
            throw new InvalidDataException(message, e);
        }
    }

    static void Unreadable(string path, Action read) => Unreadable(path, () => { read(); return true; });

    Dictionary<string, long[]> ParameterShapes() =>
        model.Module.state_dict().ToDictionary(entry => entry.Key, entry => entry.Value.shape, StringComparer.Ordinal);

    void CheckShapes(CheckpointManifest manifest, string folder)
    {
        if (manifest.ParameterShapes is not { } saved) return; // written before shapes were recorded: load decides
        var now = ParameterShapes();
        static string Show(long[]? shape) => shape is null ? "no such tensor" : $"[{string.Join(", ", shape)}]";
        foreach (string name in saved.Keys.Union(now.Keys).Order(StringComparer.Ordinal))
        {
            saved.TryGetValue(name, out long[]? before);
            now.TryGetValue(name, out long[]? after);
            if (before is null || after is null || !before.SequenceEqual(after))
                throw new InvalidInputException(folder, null, null,
                    $"the run's model has {name} {Show(before)}, this run's has {Show(after)}: resume with the architecture, sizes and vocabulary the run started with");
        }
    }
}
