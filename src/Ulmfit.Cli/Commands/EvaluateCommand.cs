using System.CommandLine;
using System.Diagnostics;
using Ulmfit.Classification;
using Ulmfit.Cli.Infrastructure;
using Ulmfit.Cli.Rendering;
using Ulmfit.Data;
using Ulmfit.Pipeline;

namespace Ulmfit.Cli.Commands;

/// <summary>`ulmfit evaluate`: accuracy, error rate, macro-F1, per-class table and confusion matrix (PNG) on labelled data.</summary>
internal static class EvaluateCommand
{
    public static Command Create(CommonOptions common, IConsoleOutput output)
    {
        var model = new Option<string>("--model") { Description = "A classifier package, the folder 'ulmfit fit' wrote, or a language model (then: perplexity on --test).", Required = true };
        var test = new Option<string>("--test") { Description = "Labelled test documents.", Required = true };
        var plot = new Option<string?>("--confusion-png") { Description = "Where to write the confusion matrix (default: confusion-matrix.png beside --json, else in --model)." };
        var sample = new Option<int?>("--sample") { Description = "Evaluate on this many test documents only (a seeded, stratified sample; for quick looks at large test sets)." };
        var predictionsOut = new Option<string?>("--predictions") { Description = "Also write each evaluated document's actual label, predicted label and class probabilities to this CSV (for error analysis)." };
        var inputs = new InputOptions();
        var dtype = new DtypeOption(inference: true);
        var command = new Command("evaluate", "Measure a classifier on labelled documents.") { model, test, plot, sample, predictionsOut };
        inputs.AddTo(command);
        dtype.AddTo(command);
        common.AddTo(command);

        CommandRunner.SetBody(command, common, output, (context, token) =>
        {
            var parse = context.Parse;
            string testPath = parse.GetValue(test)!;
            string modelPath = parse.GetValue(model)!;
            if (LanguageModelFolder.Exists(modelPath) && IO.ModelPackage.ReadManifest(modelPath).Kind == IO.ModelKind.LanguageModel)
                return Task.FromResult(EvaluateLanguageModel(modelPath, testPath, inputs.Reader(parse, labelsRequired: false), context, output, token));
            string? json = parse.GetValue(common.Json)?.FullName;
            string? explicitPng = parse.GetValue(plot);
            if (explicitPng != null) OutputPath.CheckWritable(explicitPng, "--confusion-png");
            string? predictionsPath = parse.GetValue(predictionsOut);
            if (predictionsPath != null) OutputPath.CheckWritable(predictionsPath, "--predictions");
            using var fitted = FittedModel.Load(modelPath, dtype.PredictorOptions(parse));
            IReadOnlyList<TextDocument> documents = DocumentReader.Read(testPath, inputs.Reader(parse, labelsRequired: true)).ToList();
            if (parse.GetValue(sample) is int n)
            {
                if (n < 1) throw new OptionException($"--sample must be at least 1 (got {n})");
                documents = LabelledSample.Pick(documents, n, (ulong)context.Seed);
            }
            var clock = Stopwatch.StartNew();
            var predictions = fitted.Predict(documents, token);
            double docsPerSecond = documents.Count / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            if (fitted.MultiLabel) throw new OptionException("evaluate does not report multi-label metrics yet; use the fit summary's validation F1");

            var classIndex = fitted.Classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
            var actual = new int[documents.Count];
            for (int i = 0; i < documents.Count; i++)
            {
                string label = documents[i].Label!;
                if (!classIndex.TryGetValue(label, out actual[i]))
                    throw new InvalidInputException(testPath, documents[i].Origin.Line, null, $"label '{label}' is not one of the model's classes ({string.Join(", ", fitted.Classes)})");
            }
            var metrics = ClassificationMetrics.Compute(actual, [.. predictions.Select(p => p.ClassIndex)], fitted.Classes);
            if (predictionsPath != null) PredictionsCsv.Write(predictionsPath, fitted.Classes, documents, predictions);

            // The default place is beside --json, else the model folder — which may be read-only (a deployed model):
            // then the plot is skipped with a warning rather than failing a finished evaluation.
            string? png = explicitPng ?? Path.Combine(json != null ? Path.GetDirectoryName(json)! : fitted.Members[0], "confusion-matrix.png");
            if (explicitPng == null && OutputPath.Problem(png) is { } problem)
            {
                output.Info($"warning: cannot write {png} ({problem}); no confusion matrix written (--confusion-png PATH to choose a place)");
                png = null;
            }
            if (png != null) Plots.ConfusionMatrix(metrics, png);

            output.Info($"{"class",-16} {"precision",9} {"recall",9} {"f1",9} {"support",8}");
            foreach (var c in metrics.PerClass)
                output.Info($"{c.Class,-16} {c.Precision,9:F4} {c.Recall,9:F4} {c.F1,9:F4} {c.Support,8}");
            output.Result($"accuracy {metrics.Accuracy:P2}, error rate {metrics.ErrorRate:P2}, macro-F1 {metrics.MacroF1:F4} on {metrics.Count:N0} documents " +
                          $"({docsPerSecond:N1} docs/s, {fitted.Members.Count} model{(fitted.Members.Count > 1 ? "s ensembled" : "")}, {Modeling.ComputePrecisions.Name(fitted.Precision)}{(Modeling.ComputePrecisions.KernelPath(fitted.Precision) is { } kernel ? " on " + kernel : "")})" +
                          (png != null ? $"; confusion matrix: {png}" : ""));
            return Task.FromResult(new CommandSummary
            {
                ["accuracy"] = metrics.Accuracy,
                ["error_rate"] = metrics.ErrorRate,
                ["macro_f1"] = metrics.MacroF1,
                ["per_class"] = metrics.PerClass.ToDictionary(c => c.Class, c => new Dictionary<string, object>
                    { ["precision"] = c.Precision, ["recall"] = c.Recall, ["f1"] = c.F1, ["support"] = c.Support }),
                ["confusion_matrix"] = metrics.ConfusionMatrix,
                ["classes"] = fitted.Classes,
                ["documents"] = metrics.Count,
                ["documents_per_s"] = Math.Round(docsPerSecond, 2),
                ["models"] = fitted.Members.Count,
                ["dtype"] = Modeling.ComputePrecisions.Name(fitted.Precision),
                ["int8_path"] = Modeling.ComputePrecisions.KernelPath(fitted.Precision),
                ["confusion_png"] = png,
                ["predictions"] = predictionsPath,
            });
        });
        return command;
    }

    // A language model is measured the way training validates it: loss, perplexity, next-token accuracy.
    static CommandSummary EvaluateLanguageModel(string model, string test, DocumentReaderOptions reader, CommandContext context,
        IConsoleOutput output, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        var (result, tokens) = HeldOutPerplexity.Measure(model, test, reader, threads: context.Threads, cancellationToken: token);
        output.Result($"perplexity {result.Perplexity:F2} (loss {result.Loss:F4}, next-token accuracy {result.Accuracy:P2}) on {tokens:N0} tokens of {test}");
        return new CommandSummary
        {
            ["loss"] = result.Loss,
            ["perplexity"] = result.Perplexity,
            ["accuracy"] = result.Accuracy,
            ["tokens"] = tokens,
            ["tokens_per_s"] = Math.Round(tokens / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), 1),
        };
    }
}
