using Ulmfit.Classification;
using Ulmfit.Data;
using Ulmfit.Text;

namespace Ulmfit.Pipeline;

/// <summary>
/// A trained text classifier ready to predict: one classifier package, or the folder <c>ulmfit fit</c> writes
/// (forward/ and optionally backward/, averaged as an ensemble). Load once, call <see cref="Predict(IEnumerable{string}, CancellationToken)"/>
/// from any number of threads (calls are serialised per member model: the recurrent state is not shareable), results in
/// input order. Dispose to free the weights.
/// </summary>
public sealed class FittedModel : IDisposable
{
    readonly TextClassifierPredictor? _single;
    readonly ClassifierEnsemble? _ensemble;

    FittedModel(TextClassifierPredictor? single, ClassifierEnsemble? ensemble, IReadOnlyList<string> members)
    {
        _single = single;
        _ensemble = ensemble;
        Members = members;
    }

    /// <summary>Class names, in probability-column order.</summary>
    public IReadOnlyList<string> Classes => _single?.Classes ?? _ensemble!.Classes;

    /// <summary>The packages this model is made of (forward first).</summary>
    public IReadOnlyList<string> Members { get; }

    /// <summary>The number format the (first) member model computes in.</summary>
    public Modeling.ComputePrecision Precision =>
        Modeling.ComputePrecisions.GetComputePrecision(_single?.Classifier ?? _ensemble!.Members[0].Classifier);

    /// <summary>Whether the classifier predicts label sets (sigmoid per class, tuned thresholds).</summary>
    public bool MultiLabel { get; private init; }

    public static FittedModel Load(string path, TextClassifierPredictorOptions? options = null)
    {
        var folders = new List<string>();
        if (LanguageModelFolder.Exists(path)) folders.Add(path);
        else
        {
            foreach (string direction in new[] { ClassifierPipeline.ForwardFolder, ClassifierPipeline.BackwardFolder })
                if (LanguageModelFolder.Exists(Path.Combine(path, direction))) folders.Add(Path.Combine(path, direction));
            if (folders.Count == 0) throw new InvalidInputException(path, null, null, "neither a classifier package nor a folder written by 'ulmfit fit' (no forward/model.json)");
        }
        var predictors = new List<TextClassifierPredictor>();
        bool multiLabel = false;
        try
        {
            foreach (string folder in folders)
            {
                var (classifier, vocabulary, _) = ClassifierFolder.Load(folder);
                multiLabel = classifier.Config.MultiLabel;
                predictors.Add(new TextClassifierPredictor(classifier, UlmfitTokenizer.Default, vocabulary, options));
            }
            if (predictors.Count > 1 && !predictors[0].Classes.SequenceEqual(predictors[1].Classes))
                throw new InvalidInputException(path, null, null, "the forward and backward classifiers have different classes");
        }
        catch
        {
            foreach (var p in predictors) p.Dispose();
            throw;
        }
        return predictors.Count == 1
            ? new FittedModel(predictors[0], null, folders) { MultiLabel = multiLabel }
            : new FittedModel(null, new ClassifierEnsemble(predictors), folders) { MultiLabel = multiLabel };
    }

    public IReadOnlyList<ClassificationPrediction> Predict(IEnumerable<string> texts, CancellationToken cancellationToken = default) =>
        _single?.Predict(texts, cancellationToken) ?? _ensemble!.Predict(texts, cancellationToken);

    public IReadOnlyList<ClassificationPrediction> Predict(IEnumerable<TextDocument> documents, CancellationToken cancellationToken = default) =>
        _single?.Predict(documents, cancellationToken) ?? _ensemble!.Predict(documents, cancellationToken);

    public void Dispose()
    {
        _single?.Dispose();
        _ensemble?.Dispose();
    }
}
