using System.Text.Json;
using Ulmfit.Cli;
using Ulmfit.Cli.Infrastructure;

namespace Ulmfit.Tests.Cli;

[Collection(Training.TorchRandomCollection.Name)]
public class LanguageModelCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ulmfit-lm-cli-").FullName;

    static string Sample(string file) => Path.Combine(RepositoryPaths.Samples, "support-tickets", file);

    static readonly string[] TinyModel = ["--emb", "16", "--hidden", "32", "--bptt", "12", "--batch-size", "8", "--max-vocab", "800", "--min-freq", "2", "--threads", "2"];

    [Fact]
    public void Pretrain_then_finetune_writes_models_and_summaries_and_perplexity_falls()
    {
        // Given a tiny LM pretrained on the unlabelled sample text
        string lm = Path.Combine(_dir, "lm"), json = Path.Combine(_dir, "pretrain.json");
        var console = new CapturedConsole();
        int code = CliApp.Run(["pretrain", "--corpus", Sample("unlabeled.csv"), "--out", lm, "--epochs", "3", "--lr", "3e-2", "--schedule", "one-cycle", "--json", json, .. TinyModel], console);
        Assert.True(code == 0, string.Join("\n", console.Errors));
        using var pretrain = JsonDocument.Parse(File.ReadAllText(json));
        foreach (string key in new[] { "valid_loss", "valid_perplexity", "valid_accuracy", "tokens_per_s", "epochs" })
            Assert.True(pretrain.RootElement.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.Number, $"missing numeric {key}");
        var epochs = pretrain.RootElement.GetProperty("epoch_results").EnumerateArray().Select(e => e.GetProperty("valid_perplexity").GetDouble()).ToArray();
        Assert.Equal(3, epochs.Length);
        Assert.True(epochs[^1] < epochs[0], $"validation perplexity should fall: {string.Join(", ", epochs)}");
        Assert.True(File.Exists(Path.Combine(lm, "model.json")) && File.Exists(Path.Combine(lm, "weights.safetensors")));

        // When it is fine-tuned on the labelled sample text
        string tuned = Path.Combine(_dir, "tuned"), json2 = Path.Combine(_dir, "finetune.json");
        code = CliApp.Run(["finetune-lm", "--lm", lm, "--input", Sample("train.csv"), "--out", tuned, "--epochs", "2", "--json", json2, "--lr", "1e-2", "--schedule", "one-cycle",
            "--bptt", "12", "--batch-size", "8", "--max-vocab", "800", "--min-freq", "2"], console);
        Assert.True(code == 0, string.Join("\n", console.Errors));

        // Then the vocabulary was transferred and validation perplexity fell over the fine-tuning epochs
        using var finetune = JsonDocument.Parse(File.ReadAllText(json2));
        Assert.True(finetune.RootElement.GetProperty("vocab_kept").GetInt32() > 9);
        var tunedPerplexity = finetune.RootElement.GetProperty("epoch_results").EnumerateArray().Select(e => e.GetProperty("valid_perplexity").GetDouble()).ToArray();
        Assert.Equal(3, tunedPerplexity.Length); // one frozen epoch, then two with every group
        Assert.True(tunedPerplexity[^1] < tunedPerplexity[0], string.Join(", ", tunedPerplexity));
    }

    [Fact]
    public void Pretrain_into_a_folder_with_a_run_needs_resume_and_resuming_a_finished_run_returns_its_results()
    {
        string lm = Path.Combine(_dir, "lm");
        string[] args = ["pretrain", "--corpus", Sample("unlabeled.csv"), "--out", lm, "--epochs", "1", .. TinyModel];
        Assert.Equal(0, CliApp.Run(args, new CapturedConsole()));

        var again = new CapturedConsole();
        Assert.Equal(CommandRunner.BadInput, CliApp.Run(args, again));
        Assert.Contains("--resume", Assert.Single(again.Errors));

        var resumed = new CapturedConsole();
        Assert.Equal(0, CliApp.Run([.. args, "--resume"], resumed));
        Assert.Contains(resumed.Infos, line => line.StartsWith("epoch 1:"));
    }

    [Fact]
    public void Resume_names_what_differs_falls_back_past_a_cut_short_checkpoint_and_says_when_there_is_none()
    {
        // Given a finished three-epoch run (its two newest checkpoints kept: the ends of epochs 2 and 3)
        string lm = Path.Combine(_dir, "lm");
        string[] args = ["pretrain", "--corpus", Sample("unlabeled.csv"), "--out", lm, .. TinyModel, "--resume"];
        Assert.Equal(0, CliApp.Run([.. args.SkipLast(1), "--epochs", "3"], new CapturedConsole()));
        string[] checkpoints = [.. Directory.GetDirectories(Path.Combine(lm, "checkpoints", "pretrain"), "step-*").Order(StringComparer.Ordinal)];
        Assert.Equal(2, checkpoints.Length);

        // Another epoch count or model size is refused with what differs, before anything is loaded
        var epochs = new CapturedConsole();
        Assert.Equal(CommandRunner.BadInput, CliApp.Run([.. args, "--epochs", "4"], epochs));
        Assert.Contains("epochs 3 (this run: 4)", Assert.Single(epochs.Errors));
        var size = new CapturedConsole();
        Assert.Equal(CommandRunner.BadInput, CliApp.Run([.. args.Select(a => a == "16" ? "20" : a), "--epochs", "3"], size));
        Assert.Contains("encoder.embedding.weight [", Assert.Single(size.Errors));

        // A newest checkpoint cut short (a disk fault) is skipped with a warning: the run goes on from the older one
        File.WriteAllBytes(Path.Combine(checkpoints[1], "model.bin"), File.ReadAllBytes(Path.Combine(checkpoints[1], "model.bin"))[..1000]);
        var fallback = new CapturedConsole();
        Assert.Equal(0, CliApp.Run([.. args, "--epochs", "3"], fallback));
        Assert.Contains(fallback.Infos, line => line.StartsWith("warning: ") && line.Contains("model.bin: cut short"));
        Assert.Contains(fallback.Infos, line => line.StartsWith("warning: Resuming from the older checkpoint") && line.Contains(Path.GetFileName(checkpoints[0])));
        Assert.Contains(fallback.Infos, line => line.StartsWith("epoch 3:"));

        // When none can be read, the error names the newest one's file and problem
        foreach (string folder in Directory.GetDirectories(Path.Combine(lm, "checkpoints", "pretrain"), "step-*"))
            File.WriteAllBytes(Path.Combine(folder, "model.bin"), []);
        var broken = new CapturedConsole();
        Assert.Equal(CommandRunner.Failure, CliApp.Run([.. args, "--epochs", "3"], broken));
        Assert.Contains("model.bin: cut short", Assert.Single(broken.Errors));

        // --resume where there is no run says so and starts one
        var fresh = new CapturedConsole();
        Assert.Equal(0, CliApp.Run([.. args.Select(a => a == lm ? Path.Combine(_dir, "new") : a), "--epochs", "1"], fresh));
        Assert.Contains(fresh.Infos, line => line.Contains("holds no checkpoint; starting a new run"));
    }

    [Fact]
    public void Generate_continues_the_prompt_and_lr_find_writes_a_plot_and_a_suggestion()
    {
        string lm = Path.Combine(_dir, "lm");
        Assert.Equal(0, CliApp.Run(["pretrain", "--corpus", Sample("unlabeled.csv"), "--out", lm, "--epochs", "1", .. TinyModel], new CapturedConsole()));

        var generated = new CapturedConsole();
        Assert.Equal(0, CliApp.Run(["generate", "--lm", lm, "--prompt", "My order", "--words", "12", "--seed", "3"], generated));
        string text = Assert.Single(generated.Results);
        Assert.StartsWith("My order", text);
        Assert.True(text.Length > "My order".Length + 5, text);
        var again = new CapturedConsole();
        CliApp.Run(["generate", "--lm", lm, "--prompt", "My order", "--words", "12", "--seed", "3"], again);
        Assert.Equal(text, Assert.Single(again.Results)); // same seed, same text

        // evaluate on a language model reports held-out perplexity
        string evalJson = Path.Combine(_dir, "lm-eval.json");
        Assert.Equal(0, CliApp.Run(["evaluate", "--model", lm, "--test", Sample("test.csv"), "--json", evalJson], new CapturedConsole()));
        using (var evaluated = JsonDocument.Parse(File.ReadAllText(evalJson)))
        {
            double perplexity = evaluated.RootElement.GetProperty("perplexity").GetDouble();
            Assert.InRange(perplexity, 1.0, 800.0); // below the uniform guess over the 800-token vocabulary
            Assert.Equal(Math.Exp(evaluated.RootElement.GetProperty("loss").GetDouble()), perplexity, 6);
            Assert.True(evaluated.RootElement.GetProperty("tokens").GetInt64() > 1_000);
        }

        string outDir = Path.Combine(_dir, "lr"), json = Path.Combine(_dir, "lr.json");
        var console = new CapturedConsole();
        Assert.True(CliApp.Run(["lr-find", "--lm", lm, "--input", Sample("train.csv"), "--out", outDir, "--steps", "30",
            "--bptt", "12", "--batch-size", "8", "--json", json], console) == 0, string.Join("\n", console.Errors));
        byte[] png = File.ReadAllBytes(Path.Combine(outDir, "lr-find.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        using var summary = JsonDocument.Parse(File.ReadAllText(json));
        double lr = summary.RootElement.GetProperty("suggested_lr").GetDouble();
        Assert.InRange(lr, 1e-7, 10);

        // The sweep runs in the compute type the training will use
        string bf16Json = Path.Combine(_dir, "lr-bf16.json");
        Assert.True(CliApp.Run(["lr-find", "--lm", lm, "--input", Sample("train.csv"), "--out", Path.Combine(_dir, "lr-bf16"), "--steps", "12",
            "--bptt", "12", "--batch-size", "8", "--dtype", "bf16", "--json", bf16Json], console) == 0, string.Join("\n", console.Errors));
        using var bf16 = JsonDocument.Parse(File.ReadAllText(bf16Json));
        Assert.InRange(bf16.RootElement.GetProperty("points").GetInt32(), 2, 12); // fewer if the sweep diverged early
    }

    [Fact]
    public void Unknown_compute_type_is_refused_with_one_line_naming_the_choices()
    {
        var console = new CapturedConsole();
        int code = CliApp.Run(["pretrain", "--corpus", Sample("unlabeled.csv"), "--out", Path.Combine(_dir, "x"), "--dtype", "fp16"], console);
        Assert.NotEqual(0, code);
        string error = Assert.Single(console.Errors);
        Assert.Contains("--dtype must be fp32, bf16 or auto", error);
        Assert.False(Directory.Exists(Path.Combine(_dir, "x")));
    }

    [Fact]
    public void Unavailable_architecture_is_refused_with_one_line()
    {
        var console = new CapturedConsole();
        int code = CliApp.Run(["pretrain", "--corpus", Sample("unlabeled.csv"), "--out", Path.Combine(_dir, "x"), "--arch", "transformer"], console);
        Assert.Equal(CommandRunner.BadInput, code);
        Assert.Contains("--arch", Assert.Single(console.Errors));
        Assert.False(Directory.Exists(Path.Combine(_dir, "x")));
    }

    [Fact]
    public void Continuing_a_package_refuses_shape_options_it_would_ignore()
    {
        var console = new CapturedConsole();
        string shipped = Path.Combine(RepositoryPaths.Root, "models", "en-wiki-fwd");
        int code = CliApp.Run(["pretrain", "--corpus", Sample("unlabeled.csv"), "--out", Path.Combine(_dir, "x"),
            "--continue-from", shipped, "--arch", "qrnn", "--emb", "400"], console);
        Assert.Equal(CommandRunner.BadInput, code);
        string error = Assert.Single(console.Errors);
        Assert.Contains("drop --arch, --emb", error);
        Assert.False(Directory.Exists(Path.Combine(_dir, "x")));

        // Without shape options the check lets the run through (here to the next error: the missing corpus)
        var plain = new CapturedConsole();
        Assert.Equal(CommandRunner.BadInput, CliApp.Run(["pretrain", "--corpus", Path.Combine(_dir, "missing"), "--out", Path.Combine(_dir, "x"),
            "--continue-from", shipped], plain));
        Assert.Contains("missing: no such file or folder", Assert.Single(plain.Errors));
    }

    [Fact]
    public void Pretraining_defaults_to_one_rate_for_all_layers_and_fine_tuning_to_the_papers_factor()
    {
        // Discriminative rates protect what a pretrained model already knows; a model pretrained with them would
        // leave its lowest LSTM layer nearly untrained (2.6^3 = 17.6 times the top group's rate for the first layer).
        Assert.Equal(1, new Ulmfit.Pipeline.PretrainOptions { Inputs = [], OutputDirectory = _dir }.GroupFactor);
        Assert.Equal(2.6, new Ulmfit.Pipeline.FineTuneOptions { Inputs = [], OutputDirectory = _dir, PretrainedModel = _dir }.GroupFactor);
        var root = CliApp.Build(new CapturedConsole());
        var pretrain = root.Parse(["pretrain", "--corpus", "c", "--out", "o"]);
        var finetune = root.Parse(["finetune-lm", "--lm", "m", "--input", "i", "--out", "o"]);
        Assert.Equal(1, pretrain.GetValue<double>("--lr-group-factor"));
        Assert.Equal(2.6, finetune.GetValue<double>("--lr-group-factor"));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
