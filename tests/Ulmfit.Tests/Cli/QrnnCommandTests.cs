using System.Text.Json;
using System.Text.Json.Nodes;
using Ulmfit.Cli;

namespace Ulmfit.Tests.Cli;

/// <summary>The commands with MultiFiT's QRNN encoder (<c>--arch qrnn</c>), end to end on the sample data.</summary>
[Collection(Training.TorchRandomCollection.Name)]
public class QrnnCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ulmfit-qrnn-cli-").FullName;

    static string Sample(string file) => Path.Combine(RepositoryPaths.Samples, "support-tickets", file);

    static readonly string[] TinyModel = ["--emb", "16", "--hidden", "32", "--layers", "4", "--bptt", "12", "--batch-size", "8", "--max-vocab", "800", "--min-freq", "2", "--threads", "2"];

    static string Architecture(string package) =>
        (string)JsonNode.Parse(File.ReadAllText(Path.Combine(package, "model.json")))!["architecture"]!["name"]!;

    [Fact]
    public void Pretrain_with_arch_qrnn_then_finetune_lm_and_fit_keep_the_qrnn_and_perplexity_falls()
    {
        // Given a tiny four-layer QRNN language model pretrained from scratch
        string lm = Path.Combine(_dir, "lm"), json = Path.Combine(_dir, "pretrain.json");
        var console = new CapturedConsole();
        int code = CliApp.Run(["pretrain", "--arch", "qrnn", "--corpus", Sample("unlabeled.csv"), "--out", lm, "--epochs", "3", "--lr", "3e-2",
            "--schedule", "one-cycle", "--json", json, .. TinyModel], console);
        Assert.True(code == 0, string.Join("\n", console.Errors));
        Assert.Equal("qrnn", Architecture(lm));
        using (var pretrain = JsonDocument.Parse(File.ReadAllText(json)))
        {
            var perplexity = pretrain.RootElement.GetProperty("epoch_results").EnumerateArray().Select(e => e.GetProperty("valid_perplexity").GetDouble()).ToArray();
            Assert.True(perplexity[^1] < perplexity[0], $"validation perplexity should fall: {string.Join(", ", perplexity)}");
        }

        // When it is fine-tuned (the architecture comes from the package) and a classifier is fitted on it
        string tuned = Path.Combine(_dir, "tuned");
        code = CliApp.Run(["finetune-lm", "--lm", lm, "--input", Sample("train.csv"), "--out", tuned, "--epochs", "1", "--frozen-epochs", "1",
            "--bptt", "12", "--batch-size", "8", "--max-vocab", "800", "--min-freq", "2"], console);
        Assert.True(code == 0, string.Join("\n", console.Errors));
        string model = Path.Combine(_dir, "model");
        var fit = new CapturedConsole();
        code = CliApp.Run(["fit", "--train", Sample("train.csv"), "--out", model, "--lm", tuned, "--lm-epochs", "0", "--epochs", "1",
            "--bptt", "12", "--batch-size", "16"], fit);
        Assert.True(code == 0, string.Join("\n", fit.Errors));

        // Then every package is a QRNN, and the classifier predicts
        Assert.Equal("qrnn", Architecture(tuned));
        Assert.Equal("qrnn", Architecture(Path.Combine(model, "forward")));
        var predict = new CapturedConsole("Where is my parcel?\n");
        Assert.Equal(0, CliApp.Run(["predict", "--model", model, "--input", "-"], predict));
        Assert.Contains("probabilities", predict.Stdout.ToString());
    }

    [Fact]
    public void Fit_from_scratch_with_arch_qrnn_saves_a_qrnn_classifier()
    {
        string model = Path.Combine(_dir, "scratch");
        var fit = new CapturedConsole();
        int code = CliApp.Run(["fit", "--from-scratch", "--arch", "qrnn", "--train", Sample("train.csv"), "--out", model, "--epochs", "1", "--emb", "16", "--hidden", "24",
            "--layers", "2", "--bptt", "12", "--batch-size", "16", "--max-vocab", "800"], fit);
        Assert.True(code == 0, string.Join("\n", fit.Errors));
        Assert.Equal("qrnn", Architecture(Path.Combine(model, "forward")));
    }

    [Fact]
    public void Fit_with_arch_qrnn_on_an_awd_lstm_language_model_is_refused_before_any_training()
    {
        string lm = Path.Combine(_dir, "lstm");
        Assert.Equal(0, CliApp.Run(["pretrain", "--corpus", Sample("unlabeled.csv"), "--out", lm, "--epochs", "1", "--emb", "8", "--hidden", "8",
            "--layers", "2", "--bptt", "12", "--batch-size", "8", "--max-vocab", "300", "--min-freq", "2"], new CapturedConsole()));
        var fit = new CapturedConsole();
        int code = CliApp.Run(["fit", "--arch", "qrnn", "--lm", lm, "--forward-only", "--train", Sample("train.csv"), "--out", Path.Combine(_dir, "model")], fit);
        Assert.Equal(Ulmfit.Cli.Infrastructure.CommandRunner.BadInput, code);
        Assert.Contains("holds a language model of architecture 'awd-lstm', but the classifier was asked to be 'qrnn'", Assert.Single(fit.Errors));
        Assert.False(Directory.Exists(Path.Combine(_dir, "model", "lm-forward")));
    }

    [Fact]
    public void Bench_lm_train_with_arch_qrnn_reports_tokens_per_second()
    {
        string json = Path.Combine(_dir, "bench.json");
        Assert.Equal(0, CliApp.Run(["bench", "--mode", "lm-train", "--arch", "qrnn", "--vocab", "500", "--emb", "16", "--hidden", "32", "--layers", "4",
            "--bptt", "10", "--batch-size", "8", "--steps", "2", "--warmup", "1", "--json", json], new CapturedConsole()));
        using var summary = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal("qrnn", summary.RootElement.GetProperty("arch").GetString());
        Assert.True(summary.RootElement.GetProperty("tokens_per_s").GetDouble() > 0);
        Assert.True(double.IsFinite(summary.RootElement.GetProperty("last_loss").GetDouble()));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
