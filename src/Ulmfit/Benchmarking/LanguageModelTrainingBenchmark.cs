using System.Diagnostics;
using Ulmfit.Modeling;
using Ulmfit.Training;
using static TorchSharp.torch;

namespace Ulmfit.Benchmarking;

/// <summary>The shapes a benchmark runs (the same names as the PyTorch peer's flags).</summary>
public sealed record BenchmarkShape
{
    public int Vocab { get; init; } = 60_000;
    public int Emb { get; init; } = Ulmfit.Modeling.AwdLstmConfig.DefaultEmbeddingSize;
    public int Hidden { get; init; } = Ulmfit.Modeling.AwdLstmConfig.DefaultHiddenSize;
    public int Layers { get; init; } = Ulmfit.Modeling.AwdLstmConfig.DefaultLayers;
    public int BatchSize { get; init; } = 64;
    public int Bptt { get; init; } = Ulmfit.Training.LanguageModelBatcherOptions.DefaultBptt;
    public int SeqLen { get; init; } = 256;
    public int Classes { get; init; } = 6;
    public int Steps { get; init; } = 5;
    public int Warmup { get; init; } = 2;
    /// <summary>Number format of the model's compute (weights stay float32).</summary>
    public ComputePrecision Precision { get; init; } = ComputePrecision.Fp32;
    public EncoderArchitecture Architecture { get; init; } = EncoderArchitecture.AwdLstm;

    /// <summary>Refuses counts no benchmark can time, and shapes whose tensors would not fit in this machine's memory
    /// (rather than dying of it); the message is the one-line option error of the commands.
    /// <paramref name="languageModel"/>: the LM training benchmark, whose vocabulary-wide logits dominate.</summary>
    public BenchmarkShape Validate(bool languageModel = true)
    {
        if (Steps < 1 || Warmup < 0) throw new ArgumentException($"--steps must be at least 1 and --warmup at least 0 (got {Steps} and {Warmup})");
        foreach (var (name, value) in new[] { ("--vocab", Vocab), ("--emb", Emb), ("--hidden", Hidden), ("--layers", Layers),
                     ("--batch-size", BatchSize), ("--bptt", Bptt), ("--seq-len", SeqLen) })
            if (value < 1) throw new ArgumentException($"{name} must be at least 1 (got {value})");
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        double needed = EstimatedBytes(languageModel);
        if (needed > available)
            throw new ArgumentException($"this shape needs about {needed / (1 << 30):F1} GiB of tensors, more than the {available / (double)(1 << 30):F1} GiB this machine has: " +
                "lower --vocab, --hidden, --batch-size, --bptt or --seq-len");
        return this;
    }

    /// <summary>A rough upper bound of the bytes a step holds (float32): weights with their gradients and two AdamW
    /// moments, the recorded activations (about ten per gate unit per time step), and for the LM the logits with
    /// their softmax and gradient. Generous on purpose: it only has to tell a feasible shape from an absurd one.</summary>
    public double EstimatedBytes(bool languageModel)
    {
        double width = Math.Max(Hidden, Emb);
        double parameters = (double)Vocab * Emb + Layers * 8.0 * width * width;
        double steps = languageModel ? Bptt : Math.Max(Bptt, SeqLen);
        double activations = (double)BatchSize * steps * width * Layers * 10;
        double logits = languageModel ? 3.0 * BatchSize * Bptt * Vocab : 0;
        return 4 * (4 * parameters + activations + logits);
    }

    public AwdLstmConfig LanguageModelConfig() =>
        new(Vocab) { Architecture = Architecture, EmbeddingSize = Emb, HiddenSize = Hidden, Layers = Layers, Dropouts = AwdLstmDropouts.LanguageModel };
}

/// <summary>Timings of a benchmark: per-step seconds of the timed steps, and the throughput they give.</summary>
public sealed record BenchmarkTimings(IReadOnlyList<double> StepSeconds, double ItemsPerStep, long Parameters, double LastLoss)
{
    public double MedianStepSeconds => Median(StepSeconds);
    public double ItemsPerSecond => ItemsPerStep / MedianStepSeconds;
    public double ItemsPerSecondMin => ItemsPerStep / StepSeconds.Max();
    public double ItemsPerSecondMax => ItemsPerStep / StepSeconds.Min();

    static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>
/// Language-model training speed exactly as the PyTorch peer measures it: random token ids (never xxunk/xxpad),
/// truncated BPTT with the state carried, cross-entropy + AR + TAR, backward, AdamW (0.7, 0.99, eps 1e-5, wd 0.01),
/// each step in its own dispose scope; the median of the timed steps after the warm-up.
/// </summary>
public static class LanguageModelTrainingBenchmark
{
    public static BenchmarkTimings Run(BenchmarkShape shape, long seed = 0, CancellationToken cancellationToken = default)
    {
        manual_seed(seed);
        using var model = new AwdLstmLanguageModel(shape.LanguageModelConfig()).SetComputePrecision(shape.Precision);
        using var optimizer = new LayerGroupOptimizer(model.LayerGroups, AdamWSettings.Ulmfit, groupFactor: 1);
        var step = new LanguageModelStep(model, optimizer, new LanguageModelLoss(), gradientClip: null);
        using var generator = new Generator((ulong)seed);
        var times = new List<double>();
        double loss = 0;
        model.Module.train();
        for (int i = 0; i < shape.Warmup + shape.Steps; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var input = randint(2, shape.Vocab, [shape.BatchSize, shape.Bptt], dtype: ScalarType.Int64, generator: generator);
            var target = randint(2, shape.Vocab, [shape.BatchSize, shape.Bptt], dtype: ScalarType.Int64, generator: generator);
            long start = Stopwatch.GetTimestamp();
            loss = step.Run(new LanguageModelBatch(input, target), new ScheduleValues(1e-3, null));
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (i >= shape.Warmup) times.Add(seconds);
        }
        long parameters = model.parameters().Sum(p => p.numel());
        return new BenchmarkTimings(times, shape.BatchSize * (double)shape.Bptt, parameters, loss);
    }
}

/// <summary>Process memory figures from /proc (Linux); 0 elsewhere.</summary>
public static class ProcessMemory
{
    /// <summary>Peak resident set size of this process so far, in MiB (VmHWM).</summary>
    public static double PeakResidentMegabytes() => PeakResidentMegabytes("self");

    /// <summary>Peak resident set size so far of the running process <paramref name="processId"/>, in MiB; 0 once it
    /// has exited (its /proc entry is gone) or when /proc cannot be read.</summary>
    public static double PeakResidentMegabytes(int processId) => PeakResidentMegabytes(processId.ToString(System.Globalization.CultureInfo.InvariantCulture));

    static double PeakResidentMegabytes(string process)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{process}/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0]) / 1024.0;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return 0;
    }
}

/// <summary>Classifier training or inference speed on random (batch, seq-len) documents, as the peer's clf modes.</summary>
public static class ClassifierBenchmark
{
    public static BenchmarkTimings Run(BenchmarkShape shape, bool training, long seed = 0)
    {
        manual_seed(seed);
        var classes = Enumerable.Range(0, shape.Classes).Select(i => $"class{i}").ToArray();
        var encoder = shape.LanguageModelConfig() with { Dropouts = AwdLstmDropouts.Classifier, DropMult = 0.5 };
        using var classifier = new Classification.TextClassifier(new Classification.TextClassifierConfig(encoder, classes) { Bptt = shape.Bptt })
            .SetComputePrecision(shape.Precision);
        var result = training
            ? Classification.ClassifierThroughput.MeasureTraining(classifier, shape.BatchSize, shape.SeqLen, shape.Warmup, shape.Steps, seed)
            : Classification.ClassifierThroughput.MeasureInference(classifier, shape.BatchSize, shape.SeqLen, shape.Warmup, shape.Steps, seed);
        long parameters = classifier.parameters().Sum(p => p.numel());
        return new BenchmarkTimings(result.StepSeconds, shape.BatchSize, parameters, double.NaN);
    }
}
