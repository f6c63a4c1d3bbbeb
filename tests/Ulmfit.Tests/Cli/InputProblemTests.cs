using Ulmfit.Cli;
using Ulmfit.Cli.Infrastructure;

namespace Ulmfit.Tests.Cli;

/// <summary>Small input mistakes get a one-line error that says what is wrong, before any work (issue 25, item 11).</summary>
[Collection(Training.TorchRandomCollection.Name)]
public sealed class InputProblemTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ulmfit-input-").FullName;

    string File(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    string Error(params string[] args)
    {
        var console = new CapturedConsole();
        Assert.Equal(CommandRunner.BadInput, CliApp.Run(args, console));
        return Assert.Single(console.Errors);
    }

    [Fact]
    public void A_header_only_csv_has_no_documents_rather_than_one_class()
    {
        string train = File("header.csv", "text,label\n");
        Assert.Contains("holds no labelled documents", Error("fit", "--train", train, "--out", Path.Combine(_dir, "m")));
    }

    [Fact]
    public void A_tab_separated_file_is_named_as_such_without_a_literal_tab()
    {
        string train = File("tabs.csv", "text\tlabel\nhello\tpos\nbye\tneg\n");
        string error = Error("fit", "--train", train, "--out", Path.Combine(_dir, "m"));
        Assert.Contains("separated by tabs", error);
        Assert.DoesNotContain('\t', error);
    }

    [Fact]
    public void A_missing_label_column_never_suggests_the_text_column()
    {
        string train = File("other.csv", "text,sentiment\nhello,pos\nbye,neg\n");
        string error = Error("fit", "--train", train, "--out", Path.Combine(_dir, "m"));
        Assert.Contains("no label column 'label'", error);
        Assert.DoesNotContain("did you mean 'text'", error);
    }

    [Fact]
    public void An_output_folder_that_is_a_file_is_refused_up_front()
    {
        string train = File("train.csv", "text,label\nhello,pos\nbye,neg\n");
        string existing = File("afile", "x");
        Assert.Contains("is a file; give a folder", Error("fit", "--train", train, "--out", existing));
        Assert.Contains("is a file, not a folder", Error("tokenize", "--input", train, "--out", Path.Combine(existing, "sub")));
    }

    [Fact]
    public void A_bench_shape_beyond_the_machines_memory_is_refused_before_allocating()
    {
        Assert.Contains("more than the", Error("bench", "--mode", "lm-train", "--vocab", "2000000", "--bptt", "700", "--threads", "1"));
        Assert.Contains("--hidden must be at least 1", Error("bench", "--mode", "clf-infer", "--hidden", "0"));
    }

    [Fact]
    public void Fit_says_how_many_empty_rows_it_skipped()
    {
        string sample = Path.Combine(RepositoryPaths.Samples, "support-tickets", "train.csv");
        string[] lines = System.IO.File.ReadAllLines(sample);
        string train = File("gaps.csv", string.Join("\n", [lines[0], .. lines.Skip(1).Take(60), "billing,\"\"", "shipping,  ", .. lines.Skip(61)]) + "\n");
        var console = new CapturedConsole();
        Assert.Equal(0, CliApp.Run(["fit", "--train", train, "--out", Path.Combine(_dir, "m"), "--from-scratch", "--emb", "16", "--hidden", "32",
            "--layers", "1", "--epochs", "1", "--bptt", "12", "--batch-size", "16", "--threads", "1"], console));
        Assert.Contains(console.Infos, line => line.StartsWith("warning: ") && line.Contains("skipped 2 empty document(s)"));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
