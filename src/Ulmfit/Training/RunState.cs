using System.Diagnostics;

namespace Ulmfit.Training;

/// <summary>The counters of a training run that a checkpoint carries over (steps, running epoch statistics, results).</summary>
internal sealed class RunState
{
    public long Step { get; private set; }
    public long TotalSteps { get; init; }
    public List<EpochResult> Results { get; } = [];
    public double EpochLossSum { get; private set; }
    public long EpochSteps { get; private set; }
    public long EpochTokens { get; private set; }
    public long TrainedTokens { get; private set; }
    public SmoothedLoss Smoothed { get; } = new();
    public double EpochSecondsBefore { get; private init; }
    public double ElapsedSecondsBefore { get; private init; }

    public void RecordStep(double loss, long tokens)
    {
        Step++;
        EpochLossSum += loss;
        EpochSteps++;
        EpochTokens += tokens;
        TrainedTokens += tokens;
        Smoothed.Add(loss);
    }

    public EpochResult FinishEpoch(int epoch, ValidationResult? validation, TimeSpan trainingTime, TimeSpan duration)
    {
        var result = new EpochResult(epoch, EpochSteps, EpochSteps == 0 ? double.NaN : EpochLossSum / EpochSteps, validation,
            duration, trainingTime.TotalSeconds > 0 ? EpochTokens / trainingTime.TotalSeconds : 0, EpochTokens);
        Results.Add(result);
        EpochLossSum = 0;
        EpochSteps = 0;
        EpochTokens = 0;
        return result;
    }

    public static RunState From(CheckpointManifest manifest)
    {
        var state = new RunState
        {
            Step = manifest.Step,
            TotalSteps = manifest.TotalSteps,
            EpochLossSum = manifest.EpochLossSum,
            EpochSteps = manifest.EpochSteps,
            EpochTokens = manifest.EpochTokens,
            TrainedTokens = manifest.TrainedTokens,
            EpochSecondsBefore = manifest.EpochSeconds,
            ElapsedSecondsBefore = manifest.ElapsedSeconds,
        };
        state.Results.AddRange(manifest.EpochResults);
        state.Smoothed.Restore(manifest.SmoothedLossAverage, manifest.SmoothedLossCount);
        return state;
    }
}

/// <summary>Wall-clock bookkeeping of a run: time before a resume plus this session, per epoch and in total;
/// throughput and remaining time for progress; when the next timed checkpoint is due.</summary>
internal sealed class RunClock(RunState run)
{
    readonly Stopwatch _session = Stopwatch.StartNew();
    readonly TimeSpan _before = TimeSpan.FromSeconds(run.ElapsedSecondsBefore);
    TimeSpan _epochBefore = TimeSpan.FromSeconds(run.EpochSecondsBefore);
    TimeSpan _epochSegmentStart;
    TimeSpan _lastCheckpoint;
    long _sessionTokens, _sessionSteps;

    public TimeSpan TotalElapsed => _before + _session.Elapsed;

    public TimeSpan EpochElapsed => _epochBefore + (_session.Elapsed - _epochSegmentStart);

    public void StartEpochSegment() => _epochSegmentStart = _session.Elapsed;

    public void EndEpoch()
    {
        _epochBefore = TimeSpan.Zero;
        _epochSegmentStart = _session.Elapsed;
    }

    public void RecordStep(long tokens)
    {
        _sessionTokens += tokens;
        _sessionSteps++;
    }

    public bool CheckpointDue(TimeSpan interval) => _session.Elapsed - _lastCheckpoint >= interval;

    public void CheckpointWritten() => _lastCheckpoint = _session.Elapsed;

    public LanguageModelProgress Progress(int epoch, double loss, double learningRate)
    {
        double seconds = _session.Elapsed.TotalSeconds;
        TimeSpan? remaining = _sessionSteps == 0 || seconds <= 0
            ? null
            : TimeSpan.FromSeconds(Math.Max(0, run.TotalSteps - run.Step) * seconds / _sessionSteps);
        return new LanguageModelProgress(run.Step, run.TotalSteps, epoch, loss, run.Smoothed.Value,
            seconds > 0 ? _sessionTokens / seconds : 0, learningRate, TotalElapsed, remaining);
    }
}
