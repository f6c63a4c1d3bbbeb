using Ulmfit.Training;

namespace Ulmfit.Tests.Training;

public sealed class CheckpointStoreTests : IDisposable
{
    readonly string _folder = Path.Combine(Path.GetTempPath(), $"ulmfit-checkpoints-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    static CheckpointManifest Manifest(long step) => new()
    {
        Step = step,
        TotalSteps = 100,
        Epochs = 2,
        Batcher = new BatcherPosition(1, 37, new Xoshiro256StarStar(3).SaveState()),
        EpochLossSum = 12.5,
        EpochResults = [new EpochResult(0, 50, 3.25, new ValidationResult(2.5, Math.Exp(2.5), 0.4, 1000), TimeSpan.FromSeconds(12.5), 1234.5)],
        Settings = new CheckpointSettings(64, 70, false, null, 42, 7, 4, 10_000, 12),
    };

    static void WriteFile(string folder) => File.WriteAllText(Path.Combine(folder, "weights.bin"), "w");

    [Fact]
    public void The_manifest_survives_a_round_trip_through_json()
    {
        var manifest = Manifest(5) with { EpochResults = [new EpochResult(0, 1, double.NaN, null, TimeSpan.Zero, 0)] };
        var back = CheckpointManifest.FromJson(manifest.ToJson(), "test.json");
        Assert.Equal(manifest.Batcher, back.Batcher);
        Assert.Equal(manifest.Settings, back.Settings);
        Assert.Equal(manifest.EpochResults, back.EpochResults);
        var none = Array.Empty<EpochResult>();
        Assert.Equal(manifest with { EpochResults = none }, back with { EpochResults = none });
    }

    [Fact]
    public void Only_the_newest_checkpoints_are_kept_and_the_latest_is_found()
    {
        var store = new CheckpointStore(_folder, keep: 2);
        foreach (long step in new long[] { 10, 20, 30 }) store.Save(step, Manifest(step), WriteFile);

        Assert.Equal(["step-000000000020", "step-000000000030"], Directory.GetDirectories(_folder).Select(Path.GetFileName).Order());
        Assert.Equal(30, CheckpointStore.ReadManifest(store.FindLatest()!).Step);
        Assert.True(File.Exists(Path.Combine(store.FindLatest()!, "weights.bin")));
    }

    [Fact]
    public void A_half_written_checkpoint_is_never_found_and_is_cleaned_up_later()
    {
        var store = new CheckpointStore(_folder);
        store.Save(10, Manifest(10), WriteFile);
        Assert.Throws<IOException>(() => store.Save(20, Manifest(20), folder =>
        {
            WriteFile(folder);
            throw new IOException("disk full");
        }));
        Assert.Equal(10, CheckpointStore.ReadManifest(store.FindLatest()!).Step);
        Assert.Single(Directory.GetDirectories(_folder));

        // A crash (no cleanup at all) leaves an incoming folder: ignored, then removed by the next save.
        Directory.CreateDirectory(Path.Combine(_folder, ".incoming-crashed"));
        Directory.CreateDirectory(Path.Combine(_folder, "step-000000000099")); // no manifest: incomplete
        Assert.Equal(10, CheckpointStore.ReadManifest(store.FindLatest()!).Step);
        store.Save(30, Manifest(30), WriteFile);
        Assert.False(Directory.Exists(Path.Combine(_folder, ".incoming-crashed")));
        Assert.Equal(30, CheckpointStore.ReadManifest(store.FindLatest()!).Step);
    }

    [Fact]
    public void Saving_the_same_step_again_replaces_it()
    {
        var store = new CheckpointStore(_folder);
        store.Save(10, Manifest(10), WriteFile);
        store.Save(10, Manifest(10) with { EpochSteps = 99 }, WriteFile);
        Assert.Single(Directory.GetDirectories(_folder));
        Assert.Equal(99, CheckpointStore.ReadManifest(store.FindLatest()!).EpochSteps);
    }

    [Fact]
    public void A_malformed_manifest_is_reported_with_its_file_and_line()
    {
        string checkpoint = Path.Combine(_folder, "step-000000000001");
        Directory.CreateDirectory(checkpoint);
        File.WriteAllText(Path.Combine(checkpoint, CheckpointStore.ManifestFile), "{\n  \"step\": 1,\n  \"batcher\": oops\n}");
        var error = Assert.Throws<InvalidDataException>(() => CheckpointStore.ReadManifest(checkpoint));
        Assert.Contains($"{CheckpointStore.ManifestFile}:3:", error.Message);
    }

    [Fact]
    public void A_manifest_from_a_future_format_is_refused()
    {
        var json = (Manifest(1) with { FormatVersion = 99 }).ToJson();
        var error = Assert.Throws<InvalidDataException>(() => CheckpointManifest.FromJson(json, "m.json"));
        Assert.Contains("format 99", error.Message);
    }
}
