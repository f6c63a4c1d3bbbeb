using System.Text.Json;
using Ulmfit.Cli;
using Ulmfit.Cli.Infrastructure;

namespace Ulmfit.Tests.Cli;

[Collection(Training.TorchRandomCollection.Name)]
public class ClassifierCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ulmfit-clf-cli-").FullName;

    static string Sample(string file) => Path.Combine(RepositoryPaths.Samples, "support-tickets", file);

    // A 16/32 LM on the sample's unlabelled text: a few seconds.
    string PretrainTinyLanguageModel()
    {
        string lm = Path.Combine(_dir, "lm");
        Assert.Equal(0, CliApp.Run(["pretrain", "--corpus", Sample("unlabeled.csv"), "--out", lm, "--epochs", "2", "--lr", "3e-2", "--schedule", "one-cycle",
            "--emb", "16", "--hidden", "32", "--bptt", "12", "--batch-size", "8", "--max-vocab", "800", "--min-freq", "2"], new CapturedConsole()));
        return lm;
    }

    [Fact]
    public void Fit_with_a_language_model_then_evaluate_and_predict_agree_and_keep_input_order()
    {
        // Given a tiny LM pretrained on the sample's unlabelled text
        string lm = PretrainTinyLanguageModel();

        // When the whole job runs: LM fine-tuning, then the gradually unfrozen classifier
        string model = Path.Combine(_dir, "model"), fitJson = Path.Combine(_dir, "fit.json");
        var fit = new CapturedConsole();
        int code = CliApp.Run(["fit", "--train", Sample("train.csv"), "--out", model, "--lm", lm, "--lm-epochs", "1", "--epochs", "1",
            "--lm-max-tokens", "600", "--bptt", "12", "--batch-size", "16", "--unfreeze", "gradual", "--valid-pct", "0.1", "--json", fitJson], fit);
        Assert.True(code == 0, string.Join("\n", fit.Errors));
        // LM fine-tuning saw at most the capped prefix of the task's text
        string lastCheckpoint = Directory.GetDirectories(Path.Combine(model, "lm-forward", "checkpoints", "finetune-all")).Order().Last();
        using (var checkpoint = JsonDocument.Parse(File.ReadAllText(Path.Combine(lastCheckpoint, "manifest.json"))))
        {
            var settings = checkpoint.RootElement.GetProperty("settings");
            Assert.Equal(600, settings.GetProperty("maxTokens").GetInt64());
            Assert.True(settings.GetProperty("trainingTokens").GetInt64() > 600, "the sample text should be longer than the cap");
            Assert.InRange(checkpoint.RootElement.GetProperty("trainedTokens").GetInt64(), 1, 600);
        }
        using (var summary = JsonDocument.Parse(File.ReadAllText(fitJson)))
        {
            Assert.Equal(JsonValueKind.Number, summary.RootElement.GetProperty("valid_accuracy").ValueKind);
            Assert.True(summary.RootElement.GetProperty("stage_seconds").TryGetProperty("forward_classifier", out _));
        }
        // four gradual-unfreezing stages: head, +lstm2, +lstm1, everything
        Assert.Equal(4, fit.Infos.Count(l => l.StartsWith("forward stage ")));

        // Then evaluate reports the contract's keys and writes the confusion matrix
        string evalJson = Path.Combine(_dir, "eval", "eval.json");
        var evaluate = new CapturedConsole();
        Assert.True(CliApp.Run(["evaluate", "--model", model, "--test", Sample("test.csv"), "--json", evalJson], evaluate) == 0, string.Join("\n", evaluate.Errors));
        using var eval = JsonDocument.Parse(File.ReadAllText(evalJson));
        foreach (string key in new[] { "accuracy", "error_rate", "macro_f1", "documents_per_s" })
            Assert.Equal(JsonValueKind.Number, eval.RootElement.GetProperty(key).ValueKind);
        Assert.Equal(5, eval.RootElement.GetProperty("confusion_matrix").GetArrayLength());
        Assert.Equal(5, eval.RootElement.GetProperty("per_class").EnumerateObject().Count());
        Assert.True(File.Exists(Path.Combine(_dir, "eval", "confusion-matrix.png")));
        double accuracy = eval.RootElement.GetProperty("accuracy").GetDouble();
        Assert.Equal(1 - accuracy, eval.RootElement.GetProperty("error_rate").GetDouble(), 9);
        Assert.Equal(120, eval.RootElement.GetProperty("documents").GetInt32());
        // The default dtype (auto) is int8 for inference where its kernel runs, else what auto means for training.
        string expectedDtype = Ulmfit.Engine.Int8LstmLibrary.IsAvailable ? "int8" : Ulmfit.Modeling.ComputePrecisions.Name(Ulmfit.Modeling.ComputePrecisions.Auto(Ulmfit.Engine.CpuFeatures.Current));
        Assert.Equal(expectedDtype, eval.RootElement.GetProperty("dtype").GetString());
        string sampledJson = Path.Combine(_dir, "eval", "sampled.json");
        string perDocument = Path.Combine(_dir, "eval", "sampled-predictions.csv");
        Assert.Equal(0, CliApp.Run(["evaluate", "--model", model, "--test", Sample("test.csv"), "--sample", "30", "--json", sampledJson, "--predictions", perDocument], new CapturedConsole()));
        using var sampled = JsonDocument.Parse(File.ReadAllText(sampledJson));
        Assert.Equal(30, sampled.RootElement.GetProperty("documents").GetInt32());
        // --predictions: one row per evaluated document, actual and predicted label, probabilities summing to 1, and
        // the rows' errors are the summary's error rate.
        string[] rows = File.ReadAllLines(perDocument);
        Assert.Equal("label,predicted,account,billing,product,shipping,technical", rows[0]);
        Assert.Equal(31, rows.Length);
        var fields = rows.Skip(1).Select(r => r.Split(',')).ToList();
        foreach (var f in fields)
            Assert.Equal(1.0, f.Skip(2).Sum(p => double.Parse(p, System.Globalization.CultureInfo.InvariantCulture)), 4);
        Assert.Equal(sampled.RootElement.GetProperty("error_rate").GetDouble(), fields.Count(f => f[0] != f[1]) / 30.0, 9);

        // And predict writes one row per input row, in order, with a probability column per class
        string predictions = Path.Combine(_dir, "pred.csv");
        Assert.Equal(0, CliApp.Run(["predict", "--model", model, "--input", Sample("test.csv"), "--out", predictions], new CapturedConsole()));
        string[] lines = File.ReadAllLines(predictions);
        Assert.Equal("label,account,billing,product,shipping,technical", lines[0]);
        Assert.Equal(121, lines.Length);
        string bf16Predictions = Path.Combine(_dir, "pred-bf16.csv");
        Assert.Equal(0, CliApp.Run(["predict", "--model", model, "--input", Sample("test.csv"), "--out", bf16Predictions, "--dtype", "bf16"], new CapturedConsole()));
        string[] bf16Lines = File.ReadAllLines(bf16Predictions);
        Assert.Equal(lines[0], bf16Lines[0]);
        Assert.Equal(121, bf16Lines.Length);
        // bf16 moves each probability a little, and so may flip only nearly undecided documents. The tiny model leaves
        // many documents nearly undecided, and how many flip depends on the CPU's bf16 path (native or emulated), so the
        // check is per document: close probabilities, and a changed label only where fp32's top two were close.
        static double[] Probabilities(string row) =>
            row.Split(',').Skip(1).Select(value => double.Parse(value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        foreach (var (fp32Row, bf16Row) in lines.Skip(1).Zip(bf16Lines.Skip(1)))
        {
            double[] fp32 = Probabilities(fp32Row), bf16 = Probabilities(bf16Row);
            Assert.All(fp32.Zip(bf16), pair => Assert.InRange(Math.Abs(pair.First - pair.Second), 0, 0.05));
            if (fp32Row.Split(',')[0] != bf16Row.Split(',')[0])
            {
                double[] ranked = fp32.OrderDescending().ToArray();
                Assert.InRange(ranked[0] - ranked[1], 0, 0.05);
            }
        }
        var stdin = new CapturedConsole("Where is my parcel?\nI was charged twice\n");
        Assert.Equal(0, CliApp.Run(["predict", "--model", model, "--input", "-"], stdin));
        string[] jsonLines = stdin.Stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, jsonLines.Length);
        using var first = JsonDocument.Parse(jsonLines[0]);
        Assert.Equal(5, first.RootElement.GetProperty("probabilities").EnumerateObject().Count());
    }

    [Fact]
    public void Training_refuses_int8_with_one_line_before_doing_any_work()
    {
        string model = Path.Combine(_dir, "int8-model");
        var fit = new CapturedConsole();
        Assert.Equal(2, CliApp.Run(["fit", "--train", Sample("train.csv"), "--out", model, "--dtype", "int8"], fit));
        Assert.Equal("--dtype int8 is for inference (predict, evaluate, bench --mode clf-infer); training needs fp32, bf16 or auto", Assert.Single(fit.Errors));
        Assert.False(Directory.Exists(model));
    }

    [Fact]
    public void A_backward_only_fit_put_beside_a_forward_only_one_is_evaluated_as_their_ensemble()
    {
        // Given a tiny forward and a tiny backward LM
        string forwardLm = Path.Combine(_dir, "lm-fwd"), backwardLm = Path.Combine(_dir, "lm-bwd");
        string[] tiny = ["--epochs", "1", "--emb", "16", "--hidden", "32", "--bptt", "12", "--batch-size", "8", "--max-vocab", "800", "--min-freq", "2"];
        Assert.Equal(0, CliApp.Run(["pretrain", "--corpus", Sample("unlabeled.csv"), "--out", forwardLm, .. tiny], new CapturedConsole()));
        Assert.Equal(0, CliApp.Run(["pretrain", "--corpus", Sample("unlabeled.csv"), "--out", backwardLm, "--backwards", .. tiny], new CapturedConsole()));
        string[] quick = ["--train", Sample("train.csv"), "--lm-epochs", "0", "--epochs", "1", "--bptt", "12", "--batch-size", "16"];

        // When the two directions are trained in separate runs
        string forwardRun = Path.Combine(_dir, "fwd-run"), model = Path.Combine(_dir, "model");
        Assert.Equal(0, CliApp.Run(["fit", "--forward-only", "--lm", forwardLm, "--out", forwardRun, .. quick], new CapturedConsole()));
        var backward = new CapturedConsole();
        int code = CliApp.Run(["fit", "--backward-only", "--backwards-lm", backwardLm, "--out", model, .. quick], backward);

        // Then the backward run trained the backward direction alone
        Assert.True(code == 0, string.Join("\n", backward.Errors));
        Assert.True(Directory.Exists(Path.Combine(model, "backward")));
        Assert.False(Directory.Exists(Path.Combine(model, "forward")));
        Assert.Contains(backward.Infos, l => l.StartsWith("backward stage "));
        Assert.DoesNotContain(backward.Infos, l => l.StartsWith("forward stage "));

        // And with the forward classifier moved beside it, evaluate ensembles the two
        Directory.Move(Path.Combine(forwardRun, "forward"), Path.Combine(model, "forward"));
        string evalJson = Path.Combine(_dir, "eval.json");
        Assert.Equal(0, CliApp.Run(["evaluate", "--model", model, "--test", Sample("test.csv"), "--json", evalJson], new CapturedConsole()));
        using var eval = JsonDocument.Parse(File.ReadAllText(evalJson));
        Assert.Equal(2, eval.RootElement.GetProperty("models").GetInt32());

        // Contradictory direction options are refused before anything runs
        foreach (string[] contradiction in new[] { new[] { "--forward-only" }, ["--lm", forwardLm], ["--from-scratch"] })
        {
            string outDir = Path.Combine(_dir, "refused");
            var console = new CapturedConsole();
            Assert.Equal(CommandRunner.BadInput, CliApp.Run(["fit", "--backward-only", "--backwards-lm", backwardLm, "--out", outDir, .. quick, .. contradiction], console));
            Assert.Single(console.Errors);
            Assert.False(Directory.Exists(outDir));
        }

        // And a forward-only fit into the ensemble's folder leaves no stale backward classifier to be averaged in
        Assert.Equal(0, CliApp.Run(["fit", "--forward-only", "--lm", forwardLm, "--out", model, .. quick], new CapturedConsole()));
        Assert.True(Directory.Exists(Path.Combine(model, "forward")));
        Assert.False(Directory.Exists(Path.Combine(model, "backward")));
    }

    [Fact]
    public void A_low_shot_fit_on_the_defaults_sizes_its_recipe_learns_and_self_trains_on_unlabelled_text()
    {
        // Given a tiny LM pretrained on the sample's unlabelled text
        string lm = PretrainTinyLanguageModel();

        // When fit runs on 60 labelled tickets with nothing but the unlabelled file added
        string model = Path.Combine(_dir, "lowshot"), fitJson = Path.Combine(_dir, "lowshot.json");
        var fit = new CapturedConsole();
        int code = CliApp.Run(["fit", "--train", Sample("train.csv"), "--train-sample", "60", "--unlabeled", Sample("unlabeled.csv"), "--out", model,
            "--lm", lm, "--bptt", "12", "--json", fitJson], fit);
        Assert.True(code == 0, string.Join("\n", fit.Errors));

        // Then the recipe is the low-shot one, said in the summary and the JSON
        Assert.Contains(fit.Infos, l => l.StartsWith("recipe for 60 labelled documents, 5 classes") && l.Contains("unfreezing all") && l.Contains("fixed schedule"));
        using (var summary = JsonDocument.Parse(File.ReadAllText(fitJson)))
        {
            var recipe = summary.RootElement.GetProperty("recipe");
            Assert.Equal(60, recipe.GetProperty("labelled_documents").GetInt32());
            Assert.Equal(8, recipe.GetProperty("batch_size").GetInt32());
            Assert.Equal("all", recipe.GetProperty("unfreeze").GetString());
            Assert.Equal(0, recipe.GetProperty("valid_fraction").GetDouble());
            Assert.True(recipe.GetProperty("planned_steps").GetInt64() >= Ulmfit.Pipeline.FitRecipe.MinimumSteps);
            Assert.Equal(JsonValueKind.Null, summary.RootElement.GetProperty("valid_accuracy").ValueKind);
            // and self-training added pseudo-labelled tickets, the same number per class, to a second classifier
            var self = summary.RootElement.GetProperty("self_training");
            int pseudo = self.GetProperty("pseudo_labelled").GetInt32();
            Assert.InRange(pseudo, 5, 2 * 60);
            Assert.Equal(0, pseudo % 5);
            // (counted as CSV records: a ticket's quoted text may hold a line break)
            Assert.Equal(60 + pseudo, Ulmfit.Data.DocumentReader.Read(Path.Combine(model, Ulmfit.Pipeline.ClassifierPipeline.SelfTrainingFile),
                new Ulmfit.Data.DocumentReaderOptions { LabelRequired = true }).Count());
        }

        // And the model learned: clearly better than always answering the commonest class on held-out tickets
        string evalJson = Path.Combine(_dir, "lowshot-eval.json");
        Assert.Equal(0, CliApp.Run(["evaluate", "--model", model, "--test", Sample("test.csv"), "--json", evalJson], new CapturedConsole()));
        using var eval = JsonDocument.Parse(File.ReadAllText(evalJson));
        var labels = File.ReadAllLines(Sample("test.csv")).Skip(1).Select(l => l.Split(',')[0]).ToList();
        double majority = labels.GroupBy(l => l).Max(g => g.Count()) / (double)labels.Count;
        Assert.True(eval.RootElement.GetProperty("accuracy").GetDouble() > majority + 0.1,
            $"accuracy {eval.RootElement.GetProperty("accuracy").GetDouble():P1} against the majority class's {majority:P1}");
    }

    [Fact]
    public void Fit_refuses_a_training_sample_larger_than_the_data_and_an_empty_unlabelled_file()
    {
        var console = new CapturedConsole();
        string outDir = Path.Combine(_dir, "m");
        Assert.Equal(CommandRunner.BadInput, CliApp.Run(["fit", "--train", Sample("train.csv"), "--train-sample", "5000", "--out", outDir, "--from-scratch", "--emb", "8", "--hidden", "8"], console));
        Assert.Contains("fewer than the training sample of 5,000", Assert.Single(console.Errors));

        string empty = Path.Combine(_dir, "empty.csv");
        File.WriteAllText(empty, "text\n");
        console = new CapturedConsole();
        Assert.Equal(CommandRunner.BadInput, CliApp.Run(["fit", "--train", Sample("train.csv"), "--unlabeled", empty, "--out", Path.Combine(_dir, "m2"), "--from-scratch", "--emb", "8", "--hidden", "8"], console));
        Assert.Contains("holds no documents", Assert.Single(console.Errors));
        Assert.Contains("empty.csv", console.Errors[0]);
    }

    [Fact]
    public void Fit_refuses_a_label_column_with_one_class()
    {
        string train = Path.Combine(_dir, "one.csv");
        File.WriteAllText(train, "label,text\nx,hello there\nx,another one\nx,and a third\n");
        var console = new CapturedConsole();
        Assert.Equal(CommandRunner.BadInput, CliApp.Run(["fit", "--train", train, "--out", Path.Combine(_dir, "m"), "--emb", "8", "--hidden", "8"], console));
        Assert.Contains("one class", Assert.Single(console.Errors));
    }

    [Fact]
    public void From_scratch_with_a_named_language_model_is_refused_before_anything_runs()
    {
        var console = new CapturedConsole();
        string outDir = Path.Combine(_dir, "m");
        Assert.Equal(CommandRunner.BadInput, CliApp.Run(["fit", "--train", Sample("train.csv"), "--out", outDir, "--from-scratch", "--lm", _dir], console));
        Assert.Contains("--from-scratch", Assert.Single(console.Errors));
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Train_classifier_without_a_language_model_is_refused()
    {
        var console = new CapturedConsole();
        Assert.Equal(CommandRunner.BadInput, CliApp.Run(["train-classifier", "--train", Sample("train.csv"), "--out", Path.Combine(_dir, "m")], console));
        Assert.Contains("--lm", Assert.Single(console.Errors));
    }

    [Theory]
    [InlineData("clf-infer", "fp32")]
    [InlineData("clf-train", "fp32")]
    [InlineData("clf-infer", "bf16")]
    [InlineData("clf-train", "bf16")]
    [InlineData("lm-train", "auto")]
    public void Benchmarks_report_throughput_in_the_requested_compute_type(string mode, string dtype)
    {
        string json = Path.Combine(_dir, $"{mode}-{dtype}.json");
        var console = new CapturedConsole();
        Assert.True(CliApp.Run(["bench", "--mode", mode, "--vocab", "500", "--emb", "16", "--hidden", "32", "--seq-len", "30", "--bptt", "10",
            "--batch-size", "8", "--steps", "2", "--warmup", "1", "--dtype", dtype, "--json", json], console) == 0, string.Join("\n", console.Errors));
        using var summary = JsonDocument.Parse(File.ReadAllText(json));
        string expected = dtype == "auto" ? Ulmfit.Modeling.ComputePrecisions.Name(Ulmfit.Modeling.ComputePrecisions.Auto(Ulmfit.Engine.CpuFeatures.Current)) : dtype;
        Assert.Equal(expected, summary.RootElement.GetProperty("dtype").GetString());
        if (mode == "lm-train")
        {
            Assert.True(summary.RootElement.GetProperty("tokens_per_s").GetDouble() > 0);
            return;
        }
        Assert.True(summary.RootElement.GetProperty("docs_per_s").GetDouble() > 0);
        Assert.True(summary.RootElement.GetProperty("peak_rss_mb").GetDouble() > 0);
    }

    [Theory]
    [InlineData("0", "1")]
    [InlineData("2", "-1")]
    public void Benchmark_step_counts_that_time_nothing_are_one_line_errors(string steps, string warmup)
    {
        string json = Path.Combine(_dir, $"steps-{steps}-{warmup}.json");
        var console = new CapturedConsole();
        Assert.Equal(CommandRunner.BadInput, CliApp.Run(["bench", "--mode", "clf-infer", "--vocab", "500", "--emb", "16", "--hidden", "32",
            "--seq-len", "30", "--steps", steps, "--warmup", warmup, "--json", json], console));
        Assert.Equal($"--steps must be at least 1 and --warmup at least 0 (got {steps} and {warmup})", Assert.Single(console.Errors));
        Assert.False(File.Exists(json));
    }

    [Fact]
    public void A_non_positive_lm_token_cap_is_refused_before_anything_is_written()
    {
        var console = new CapturedConsole();
        string outDir = Path.Combine(_dir, "capped");
        int code = CliApp.Run(["fit", "--train", Sample("train.csv"), "--out", outDir, "--from-scratch", "--lm-max-tokens", "0"], console);
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("LM token cap must be positive", Assert.Single(console.Errors));
        Assert.False(Directory.Exists(outDir));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
