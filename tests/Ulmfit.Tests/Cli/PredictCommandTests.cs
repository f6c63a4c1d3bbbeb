using System.Text.Json;
using Ulmfit.Cli;
using Ulmfit.Cli.Infrastructure;

namespace Ulmfit.Tests.Cli;

/// <summary>predict answers every input row in its place: empty text gets an empty prediction, ids are carried through.</summary>
[Collection(Training.TorchRandomCollection.Name)]
public class PredictCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ulmfit-predict-").FullName;

    static string Sample(string file) => Path.Combine(RepositoryPaths.Samples, "support-tickets", file);

    string TinyModel()
    {
        string model = Path.Combine(_dir, "model");
        Assert.Equal(0, CliApp.Run(["fit", "--train", Sample("train.csv"), "--out", model, "--from-scratch", "--emb", "16", "--hidden", "32",
            "--layers", "1", "--epochs", "1", "--bptt", "12", "--batch-size", "16", "--threads", "1"], new CapturedConsole()));
        return model;
    }

    [Fact]
    public void Empty_rows_keep_their_place_with_an_empty_prediction_and_the_id_column_is_carried_through()
    {
        string model = TinyModel();
        string input = Path.Combine(_dir, "in.csv"), output = Path.Combine(_dir, "out.csv"), json = Path.Combine(_dir, "out.json");
        File.WriteAllText(input, "id,text\nr1,Where is my parcel?\nr2,\nr3,   \nr4,I was charged twice\n");
        var console = new CapturedConsole();

        int code = CliApp.Run(["predict", "--model", model, "--input", input, "--out", output, "--json", json, "--threads", "1"], console);

        Assert.True(code == 0, string.Join("\n", console.Errors));
        string[] lines = File.ReadAllLines(output);
        Assert.Equal(5, lines.Length);
        string[] header = lines[0].Split(',');
        Assert.Equal("label", header[0]);
        Assert.Equal("id", header[^1]);
        int classes = header.Length - 2;
        Assert.Equal(["r1", "r2", "r3", "r4"], lines.Skip(1).Select(l => l.Split(',')[^1]));
        foreach (int blank in new[] { 2, 3 })
            Assert.Equal(new string(',', classes) + $",r{blank}", lines[blank]);
        foreach (int filled in new[] { 1, 4 })
        {
            string[] cells = lines[filled].Split(',');
            Assert.NotEqual("", cells[0]);
            double sum = cells.Skip(1).Take(classes).Sum(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture));
            Assert.InRange(sum, 0.999, 1.001);
        }
        Assert.Contains(console.Infos, l => l.StartsWith("warning: 2 document(s) with empty text got an empty prediction, first at ", StringComparison.Ordinal));
        using var summary = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(4, summary.RootElement.GetProperty("documents").GetInt32());
        Assert.Equal(2, summary.RootElement.GetProperty("empty_documents").GetInt32());
    }

    [Fact]
    public void A_named_id_column_that_is_missing_is_refused_and_stdin_answers_an_empty_line_with_null()
    {
        string model = TinyModel();
        var missing = new CapturedConsole();
        Assert.Equal(CommandRunner.BadInput, CliApp.Run(["predict", "--model", model, "--input", Sample("test.csv"),
            "--out", Path.Combine(_dir, "o.csv"), "--id-column", "ticket"], missing));
        Assert.Contains("no id column 'ticket'", Assert.Single(missing.Errors));
        Assert.False(File.Exists(Path.Combine(_dir, "o.csv")));

        var stdin = new CapturedConsole("Where is my parcel?\n\nI was charged twice\n");
        Assert.Equal(0, CliApp.Run(["predict", "--model", model, "--input", "-"], stdin));
        string[] jsonLines = stdin.Stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, jsonLines.Length);
        using var blank = JsonDocument.Parse(jsonLines[1]);
        Assert.Equal(JsonValueKind.Null, blank.RootElement.GetProperty("label").ValueKind);
        using var last = JsonDocument.Parse(jsonLines[2]);
        Assert.Equal(JsonValueKind.String, last.RootElement.GetProperty("label").ValueKind);
    }

    [Fact]
    public void An_id_column_named_like_a_class_is_refused_rather_than_giving_a_header_with_the_name_twice()
    {
        string model = TinyModel();
        string className = File.ReadAllLines(Sample("train.csv")).Skip(1).First().Split(',')[0];
        string input = Path.Combine(_dir, "in.csv");
        File.WriteAllText(input, $"{className},text\nr1,Where is my parcel?\n");
        var console = new CapturedConsole();
        Assert.Equal(CommandRunner.BadInput, CliApp.Run(["predict", "--model", model, "--input", input, "--out", Path.Combine(_dir, "out.csv"),
            "--id-column", className, "--threads", "1"], console));
        Assert.Contains($"the id column '{className}' has the name of an output column", Assert.Single(console.Errors));
        Assert.False(File.Exists(Path.Combine(_dir, "out.csv")));
    }

    [Fact]
    public async Task Invalid_utf8_on_stdin_is_an_error_naming_its_line_and_column_as_in_a_file()
    {
        string model = TinyModel();
        var start = new System.Diagnostics.ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "Ulmfit.Cli"))
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string a in new[] { "predict", "--model", model, "--input", "-", "--threads", "1" }) start.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        byte[] input = [.. "Where is my parcel?\n"u8, (byte)'a', (byte)'b', 0xFF, (byte)'\n'];
        await process.StandardInput.BaseStream.WriteAsync(input);
        process.StandardInput.Close();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));

        Assert.Equal(CommandRunner.BadInput, process.ExitCode);
        Assert.Contains("stdin:2:3: invalid UTF-8 byte 0xFF", await stderr);
        await stdout;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
