using Ulmfit.Cli;
using Ulmfit.Pipeline;
using Ulmfit.Tests.Cli;

namespace Ulmfit.Tests.Serving;

/// <summary>
/// A tiny classifier for the serving tests, trained once per test class in seconds: a small LM pretrained on the
/// support-tickets sample, then a forward classifier fit on it for one epoch. Its predictions are meaningless, but
/// the same as offline <see cref="FittedModel.Predict(IEnumerable{string}, CancellationToken)"/>, which is what the
/// tests compare against.
/// </summary>
public sealed class TinyServedModel : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ulmfit-serve-").FullName;

    public TinyServedModel()
    {
        string lm = Path.Combine(_dir, "lm");
        Run(["pretrain", "--corpus", Sample("unlabeled.csv"), "--out", lm, "--epochs", "1", "--emb", "16", "--hidden", "32",
            "--bptt", "12", "--batch-size", "8", "--max-vocab", "800", "--min-freq", "2", "--threads", "1"]);
        Folder = Path.Combine(_dir, "tickets");
        Run(["fit", "--train", Sample("train.csv"), "--out", Folder, "--lm", lm, "--forward-only", "--lm-epochs", "0", "--epochs", "1",
            "--bptt", "12", "--batch-size", "16", "--unfreeze", "gradual", "--valid-pct", "0.1", "--threads", "1"]);
        Model = FittedModel.Load(Folder);
        Texts = [.. Ulmfit.Data.DocumentReader.Read(Sample("test.csv")).Select(d => d.Fields[0])];
    }

    /// <summary>The folder <c>ulmfit fit</c> wrote.</summary>
    public string Folder { get; }

    /// <summary>The model, loaded once (thread-safe to predict with).</summary>
    public FittedModel Model { get; }

    /// <summary>The sample's test texts.</summary>
    public IReadOnlyList<string> Texts { get; }

    static string Sample(string file) => Path.Combine(RepositoryPaths.Samples, "support-tickets", file);

    static void Run(string[] args)
    {
        var console = new CapturedConsole();
        int code = CliApp.Run(args, console);
        if (code != 0) throw new InvalidOperationException($"ulmfit {args[0]} failed ({code}): {string.Join(" | ", console.Errors)}");
    }

    public void Dispose()
    {
        Model.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
