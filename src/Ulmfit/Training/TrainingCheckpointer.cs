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
            return store.Save(manifest.Step, manifest with { HasRecurrentState = recurrent is not null, SavedAt = DateTimeOffset.UtcNow },
                folder =>
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

    /// <summary>Loads the newest checkpoint into the model, the optimizer and libtorch's generator and returns its
    /// manifest, or returns null when the store holds none.</summary>
    public CheckpointManifest? LoadLatest()
    {
        string? folder = store.FindLatest();
        if (folder is null) return null;
        var manifest = CheckpointStore.ReadManifest(folder);
        string weights = Path.Combine(folder, ModelFile);
        if (!File.Exists(weights)) throw new FileNotFoundException($"{weights}: checkpoint has no model weights", weights);
        model.Module.load(weights);
        optimizer.Load(Path.Combine(folder, OptimizerFile));
        TensorStateFiles.LoadTorchRandom(Path.Combine(folder, TorchRandomFile));

        model.ResetState();
        if (manifest.HasRecurrentState && model is IRecurrentStateSnapshots snapshots)
        {
            var state = TensorStateFiles.LoadTensors(Path.Combine(folder, RecurrentStateFile));
            try { snapshots.RestoreState(state); }
            finally { foreach (var t in state) t.Dispose(); }
        }
        return manifest;
    }
}
