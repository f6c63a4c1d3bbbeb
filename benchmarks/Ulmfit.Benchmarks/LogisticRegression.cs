using Ulmfit.Training;
using static TorchSharp.torch;

using Ulmfit.Classification;

namespace Ulmfit.Benchmarks;

/// <summary>
/// Multinomial logistic regression with an L2 penalty on fixed feature vectors (a linear probe of the encoder's pooled
/// features), the penalty chosen by stratified k-fold cross-validation. With a hundred labels a convex model is the
/// one whose held-out estimate can be trusted: every fold refits in milliseconds, so k-fold is affordable where
/// refitting the whole network per fold is not.
/// </summary>
/// <remarks>Features are standardised with the training rows' mean and deviation (kept in the model); the weights
/// are fitted full-batch with Adam to convergence, deterministically (zeros to start, no sampling).</remarks>
public sealed class LogisticRegression
{
    readonly float[] _mean, _scale; // (features)
    readonly float[] _weights;      // (features · classes), row-major by feature
    readonly float[] _bias;         // (classes)

    LogisticRegression(float[] mean, float[] scale, float[] weights, float[] bias, int classes, double penalty)
    {
        _mean = mean;
        _scale = scale;
        _weights = weights;
        _bias = bias;
        ClassCount = classes;
        Penalty = penalty;
    }

    /// <summary>Classes the model predicts (0 … ClassCount − 1).</summary>
    public int ClassCount { get; }

    /// <summary>The L2 penalty it was fitted with.</summary>
    public double Penalty { get; }

    /// <summary>Penalties tried by <see cref="FitCrossValidated"/>, strongest last: λ in mean cross-entropy + λ/2·‖W‖².</summary>
    public static IReadOnlyList<double> DefaultPenalties { get; } = [1e-3, 1e-2, 1e-1, 3e-1, 1, 3, 10, 30];

    /// <summary>Fits with the penalty (from <paramref name="penalties"/>) whose stratified <paramref name="folds"/>-fold
    /// held-out cross-entropy is lowest; returns the model refitted on every row and each penalty's estimate.</summary>
    public static (LogisticRegression Model, IReadOnlyList<(double Penalty, double HeldOutLoss, double HeldOutError)> Estimates) FitCrossValidated(
        IReadOnlyList<float[]> features, IReadOnlyList<int> labels, int classes, int folds = 5, IReadOnlyList<double>? penalties = null, ulong seed = 0)
    {
        Check(features, labels, classes);
        penalties ??= DefaultPenalties;
        var fold = StratifiedFolds(labels, classes, folds, seed);
        int k = fold.Max() + 1;
        var estimates = new List<(double, double, double)>();
        foreach (double penalty in penalties)
        {
            double loss = 0;
            int errors = 0;
            for (int f = 0; f < k; f++)
            {
                var trainRows = Enumerable.Range(0, labels.Count).Where(i => fold[i] != f).ToArray();
                var heldRows = Enumerable.Range(0, labels.Count).Where(i => fold[i] == f).ToArray();
                var model = Fit([.. trainRows.Select(i => features[i])], [.. trainRows.Select(i => labels[i])], classes, penalty);
                foreach (int i in heldRows)
                {
                    var p = model.Probabilities(features[i]);
                    loss -= Math.Log(Math.Max(p[labels[i]], 1e-7));
                    if (ClassifierEvaluation.ArgMax(p) != labels[i]) errors++;
                }
            }
            estimates.Add((penalty, loss / labels.Count, (double)errors / labels.Count));
        }
        double best = estimates.MinBy(e => e.Item2).Item1;
        return (Fit(features, labels, classes, best), estimates);
    }

    /// <summary>Fits with the given L2 <paramref name="penalty"/>.</summary>
    public static LogisticRegression Fit(IReadOnlyList<float[]> features, IReadOnlyList<int> labels, int classes, double penalty, int steps = 400)
    {
        Check(features, labels, classes);
        int n = features.Count, d = features[0].Length;
        var (mean, scale) = Standardisation(features);
        using var scope = NewDisposeScope();
        using var x = Standardised(features, mean, scale);                    // (n, d)
        using var y = tensor(labels.Select(l => (long)l).ToArray());           // (n)
        var w = new TorchSharp.Modules.Parameter(zeros(d, classes));           // (d, classes)
        var b = new TorchSharp.Modules.Parameter(zeros(classes));              // (classes)
        using var optimizer = optim.Adam([w, b], lr: 0.05);
        for (int step = 0; step < steps; step++)
        {
            using var stepScope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(x.matmul(w) + b, y) + w.square().sum() * (penalty / 2);
            loss.backward();
            optimizer.step();
        }
        return new LogisticRegression(mean, scale, w.detach().data<float>().ToArray(), b.detach().data<float>().ToArray(), classes, penalty);
    }

    /// <summary>Class probabilities of one feature vector.</summary>
    public float[] Probabilities(float[] features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Length != _mean.Length) throw new ArgumentException($"{features.Length} features given; the model was fitted on {_mean.Length}.", nameof(features));
        var logits = (double[])[.. _bias.Select(v => (double)v)];
        for (int j = 0; j < features.Length; j++)
        {
            double v = (features[j] - _mean[j]) / _scale[j];
            for (int c = 0; c < ClassCount; c++) logits[c] += v * _weights[j * ClassCount + c];
        }
        double max = logits.Max(), sum = 0;
        for (int c = 0; c < ClassCount; c++) sum += logits[c] = Math.Exp(logits[c] - max);
        return [.. logits.Select(v => (float)(v / sum))];
    }

    static void Check(IReadOnlyList<float[]> features, IReadOnlyList<int> labels, int classes)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.Count == 0 || features.Count != labels.Count) throw new ArgumentException($"{features.Count} feature rows for {labels.Count} labels.");
        if (features.Any(f => f.Length != features[0].Length)) throw new ArgumentException("every feature row must have the same length.", nameof(features));
        if (labels.Any(l => l < 0 || l >= classes)) throw new ArgumentException($"labels must be in [0, {classes}).", nameof(labels));
    }

    static (float[] Mean, float[] Scale) Standardisation(IReadOnlyList<float[]> features)
    {
        int d = features[0].Length;
        var mean = new float[d];
        var scale = new float[d];
        for (int j = 0; j < d; j++)
        {
            double m = features.Average(f => f[j]);
            double var = features.Average(f => (f[j] - m) * (f[j] - m));
            mean[j] = (float)m;
            scale[j] = (float)Math.Max(Math.Sqrt(var), 1e-6); // a constant feature stays 0 after standardising
        }
        return (mean, scale);
    }

    static Tensor Standardised(IReadOnlyList<float[]> features, float[] mean, float[] scale)
    {
        int n = features.Count, d = mean.Length;
        var flat = new float[n * d];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) flat[i * d + j] = (features[i][j] - mean[j]) / scale[j];
        return tensor(flat, [n, d]);
    }

    /// <summary>Each row's fold (0 … k − 1), classes dealt round-robin after a seeded shuffle so every fold holds
    /// each class in proportion; k is lowered to the smallest class's count when that is below it (at least 2).</summary>
    internal static int[] StratifiedFolds(IReadOnlyList<int> labels, int classes, int folds, ulong seed)
    {
        int smallest = Enumerable.Range(0, classes).Select(c => labels.Count(l => l == c)).Where(n => n > 0).Min();
        int k = Math.Max(2, Math.Min(folds, smallest));
        var random = new Xoshiro256StarStar(seed);
        var fold = new int[labels.Count];
        int next = 0;
        for (int c = 0; c < classes; c++)
        {
            var rows = Enumerable.Range(0, labels.Count).Where(i => labels[i] == c).ToArray();
            random.Shuffle(rows);
            foreach (int i in rows) fold[i] = next++ % k;
        }
        return fold;
    }
}
