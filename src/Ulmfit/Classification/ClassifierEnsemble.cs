using System.Diagnostics;
using Ulmfit.Data;

namespace Ulmfit.Classification;

/// <summary>
/// ULMFiT's bidirectional classifier: a forward and a backward classifier (trained on a backward language model's
/// encoder, reading documents last token first) whose class probabilities are averaged (paper, section 3.3). Any
/// number of members with the same classes works. Thread-safe as its members are.
/// </summary>
public sealed class ClassifierEnsemble : IDisposable
{
    readonly TextClassifierPredictor[] _members;
    readonly bool _ownsMembers;

    /// <summary>Averages <paramref name="members"/> (at least one; all with the same classes and kind).</summary>
    public ClassifierEnsemble(IReadOnlyList<TextClassifierPredictor> members, bool ownsMembers = true)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0) throw new ArgumentException("an ensemble needs at least one member.", nameof(members));
        CheckCompatible(members.Select(m => m.Classifier).ToArray());
        _members = [.. members];
        _ownsMembers = ownsMembers;
    }

    /// <summary>Class names, in probability-column order.</summary>
    public IReadOnlyList<string> Classes => _members[0].Classes;

    /// <summary>The members.</summary>
    public IReadOnlyList<TextClassifierPredictor> Members => _members;

    /// <summary>Predictions for <paramref name="texts"/>, in input order.</summary>
    public IReadOnlyList<ClassificationPrediction> Predict(IEnumerable<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return Predict(texts.Select(t => TextDocument.FromText(t)).ToList(), cancellationToken);
    }

    /// <summary>Predictions for <paramref name="documents"/>, in input order: the members' probabilities averaged;
    /// multi-label decisions use the mean of the members' thresholds.</summary>
    public IReadOnlyList<ClassificationPrediction> Predict(IEnumerable<TextDocument> documents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        var list = documents as IReadOnlyList<TextDocument> ?? documents.ToList();
        var perMember = new List<float[][]>(_members.Length);
        int[][]? shared = null;
        Ulmfit.Data.Vocabulary? sharedVocabulary = null;
        foreach (var member in _members)
        {
            // Members built on the same vocabulary (the usual forward/backward pair) share one tokenization.
            if (shared is null || sharedVocabulary!.Hash != member.Vocabulary.Hash)
            {
                shared = member.Encode(list, cancellationToken);
                sharedVocabulary = member.Vocabulary;
            }
            perMember.Add(member.PredictProbabilities(shared, cancellationToken));
        }
        var thresholds = _members[0].Classifier.Config.MultiLabel ? MeanThresholds(_members.Select(m => m.Thresholds()).ToArray()) : null;
        return [.. Average(perMember).Select(p => ClassificationPrediction.From(p, Classes, thresholds))];
    }

    /// <summary>Measures classifiers <paramref name="members"/> together on <paramref name="dataset"/> (token ids in
    /// reading order; a backward member reverses them itself).</summary>
    public static ClassifierEvaluation Evaluate(IReadOnlyList<TextClassifier> members, ClassificationDataset dataset,
        ClassifierBatchingOptions? batching = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(dataset);
        if (members.Count == 0) throw new ArgumentException("an ensemble needs at least one member.", nameof(members));
        CheckCompatible(members);
        var clock = Stopwatch.StartNew();
        var probabilities = Average([.. members.Select(m => ClassifierEvaluator.PredictProbabilities(m, dataset.Documents, batching, cancellationToken))]);
        var thresholds = dataset.MultiLabel ? MeanThresholds([.. members.Select(m => m.DecisionThresholds)]) : null;
        return ClassifierEvaluation.FromProbabilities(probabilities, dataset, thresholds, clock.Elapsed);
    }

    /// <summary>Element-wise mean of the members' probability tables (each documents × classes).</summary>
    public static float[][] Average(IReadOnlyList<float[][]> memberProbabilities)
    {
        ArgumentNullException.ThrowIfNull(memberProbabilities);
        if (memberProbabilities.Count == 0) throw new ArgumentException("nothing to average.", nameof(memberProbabilities));
        int n = memberProbabilities[0].Length;
        if (memberProbabilities.Any(m => m.Length != n)) throw new ArgumentException("the members scored different numbers of documents.");
        var mean = new float[n][];
        for (int i = 0; i < n; i++)
        {
            int k = memberProbabilities[0][i].Length;
            var sum = new double[k];
            foreach (var member in memberProbabilities)
            {
                if (member[i].Length != k) throw new ArgumentException($"document {i} has different class counts across members.");
                for (int c = 0; c < k; c++) sum[c] += member[i][c];
            }
            mean[i] = [.. sum.Select(s => (float)(s / memberProbabilities.Count))];
        }
        return mean;
    }

    static float[] MeanThresholds(IReadOnlyList<float[]> thresholds) => Average([.. thresholds.Select(t => new[] { t })])[0];

    static void CheckCompatible(IReadOnlyList<TextClassifier> members)
    {
        var first = members[0];
        foreach (var m in members.Skip(1))
        {
            if (!m.Classes.SequenceEqual(first.Classes, StringComparer.Ordinal))
                throw new ArgumentException("ensemble members must have the same classes in the same order.");
            if (m.Config.MultiLabel != first.Config.MultiLabel)
                throw new ArgumentException("ensemble members must all be single-label or all multi-label.");
        }
    }

    /// <summary>Disposes the members when the ensemble owns them.</summary>
    public void Dispose()
    {
        if (!_ownsMembers) return;
        foreach (var m in _members) m.Dispose();
    }
}
