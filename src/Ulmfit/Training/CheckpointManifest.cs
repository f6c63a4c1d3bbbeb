using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ulmfit.Training;

/// <summary>
/// The JSON manifest of a training checkpoint: everything besides the tensors that a run needs to continue exactly
/// (step, data position, running epoch statistics, results so far) and the settings it must be resumed with.
/// </summary>
public sealed record CheckpointManifest
{
    /// <summary>Version of this layout; readers reject versions they do not know.</summary>
    public int FormatVersion { get; init; } = CurrentFormatVersion;

    /// <summary>The version this library writes.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>Optimisation steps completed.</summary>
    public long Step { get; init; }

    /// <summary>Steps the run's schedule spans.</summary>
    public long TotalSteps { get; init; }

    /// <summary>Epochs the run was asked for.</summary>
    public int Epochs { get; init; }

    /// <summary>Where the training batcher stands (the next batch to draw).</summary>
    public required BatcherPosition Batcher { get; init; }

    /// <summary>Sum of the batch losses of the epoch in progress.</summary>
    public double EpochLossSum { get; init; }

    /// <summary>Steps done in the epoch in progress.</summary>
    public long EpochSteps { get; init; }

    /// <summary>Tokens trained on in the epoch in progress.</summary>
    public long EpochTokens { get; init; }

    /// <summary>Training seconds spent in the epoch in progress.</summary>
    public double EpochSeconds { get; init; }

    /// <summary>Training seconds over the whole run.</summary>
    public double ElapsedSeconds { get; init; }

    /// <summary>Tokens trained on over the whole run.</summary>
    public long TrainedTokens { get; init; }

    /// <summary>Raw average and count of the smoothed loss.</summary>
    public double SmoothedLossAverage { get; init; }

    /// <summary>Losses that went into <see cref="SmoothedLossAverage"/>.</summary>
    public long SmoothedLossCount { get; init; }

    /// <summary>Results of the finished epochs.</summary>
    public IReadOnlyList<EpochResult> EpochResults { get; init; } = [];

    /// <summary>Whether the model's carried recurrent state was saved (see <see cref="IRecurrentStateSnapshots"/>).</summary>
    public bool HasRecurrentState { get; init; }

    /// <summary>Settings that must not change between the interrupted and the resumed run.</summary>
    public required CheckpointSettings Settings { get; init; }

    /// <summary>The shape of every tensor in the model's weights file, by state-dict name (null in checkpoints written
    /// before it was recorded): checked before loading, so a run resumed with another model size is told what differs.</summary>
    public IReadOnlyDictionary<string, long[]>? ParameterShapes { get; init; }

    /// <summary>When the checkpoint was written.</summary>
    public DateTimeOffset SavedAt { get; init; }

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, // NaN losses survive the round trip
    };

    /// <summary>The manifest as JSON text.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Parses a manifest; <paramref name="source"/> names the file in error messages.</summary>
    public static CheckpointManifest FromJson(string json, string source)
    {
        CheckpointManifest? manifest;
        try { manifest = JsonSerializer.Deserialize<CheckpointManifest>(json, Json); }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}:{e.LineNumber + 1}:{e.BytePositionInLine + 1}: not a checkpoint manifest ({e.Message})", e);
        }
        if (manifest is null) throw new InvalidDataException($"{source}: empty checkpoint manifest");
        if (manifest.FormatVersion != CurrentFormatVersion)
            throw new InvalidDataException($"{source}: checkpoint format {manifest.FormatVersion} is not supported (expected {CurrentFormatVersion})");
        return manifest;
    }
}

/// <summary>Run settings recorded in a checkpoint and checked on resume (a different value would silently change
/// the data order, the schedule or the optimizer's layout).</summary>
public sealed record CheckpointSettings(
    int BatchSize, int Bptt, bool Backwards, long? MaxTokens, ulong DataSeed, long TorchSeed, int LayerGroups,
    long TrainingTokens, int TrainingDocuments)
{
    /// <summary>The settings in which <paramref name="other"/> differs from these, in words ("bptt 70 (this run: 60)"),
    /// empty when they are equal.</summary>
    public IReadOnlyList<string> Differences(CheckpointSettings other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var differences = new List<string>();
        void Compare<T>(string what, T saved, T now)
        {
            if (!EqualityComparer<T>.Default.Equals(saved, now))
                differences.Add($"{what} {Show(saved)} (this run: {Show(now)})");
        }
        static string Show<T>(T value) => value switch
        {
            null => "none",
            bool b => b ? "yes" : "no",
            IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
        Compare("batch size", BatchSize, other.BatchSize);
        Compare("bptt", Bptt, other.Bptt);
        Compare("backwards", Backwards, other.Backwards);
        Compare("tokens per epoch cap", MaxTokens, other.MaxTokens);
        Compare("seed", DataSeed, other.DataSeed);
        Compare("libtorch seed", TorchSeed, other.TorchSeed);
        Compare("layer groups", LayerGroups, other.LayerGroups);
        Compare("training tokens", TrainingTokens, other.TrainingTokens);
        Compare("training documents", TrainingDocuments, other.TrainingDocuments);
        return differences;
    }
}
