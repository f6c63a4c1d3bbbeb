using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Ulmfit.Cli.Infrastructure;
using Ulmfit.Data;
using Ulmfit.Pipeline;

namespace Ulmfit.Cli.Commands;

/// <summary>`ulmfit predict`: CSV in → CSV out (label, one probability column per class, input order), or lines on
/// stdin → JSON lines on stdout with <c>--input -</c>.</summary>
internal static class PredictCommand
{
    public static Command Create(CommonOptions common, IConsoleOutput output)
    {
        var model = new Option<string>("--model") { Description = "A classifier package or the folder 'ulmfit fit' wrote.", Required = true };
        var input = new Option<string>("--input") { Description = "Documents to classify; '-' reads one document per line from stdin.", Required = true };
        var outPath = new Option<string?>("--out") { Description = "Output CSV (required unless --input -)." };
        var inputs = new InputOptions();
        var dtype = new DtypeOption(inference: true);
        var command = new Command("predict", "Classify documents with a trained model.") { model, input, outPath };
        inputs.AddTo(command);
        dtype.AddTo(command);
        common.AddTo(command);

        CommandRunner.SetBody(command, common, output, (context, token) =>
        {
            var parse = context.Parse;
            using var fitted = FittedModel.Load(parse.GetValue(model)!, dtype.PredictorOptions(parse));
            string source = parse.GetValue(input)!;
            if (source == "-")
            {
                int count = 0;
                string? line;
                while ((line = output.In.ReadLine()) != null)
                {
                    token.ThrowIfCancellationRequested();
                    var p = fitted.Predict([line], token)[0];
                    var probabilities = fitted.Classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => (double)p.Probabilities[x.i]);
                    output.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["label"] = fitted.MultiLabel ? string.Join('|', p.Labels) : p.Label, ["probabilities"] = probabilities }));
                    output.Out.Flush();
                    count++;
                }
                return Task.FromResult(new CommandSummary { ["documents"] = count });
            }
            string destination = parse.GetValue(outPath) ?? throw new OptionException("--out is required (or use --input - for JSON lines on stdout)");
            var documents = DocumentReader.Read(source, inputs.Reader(parse)).ToList();
            var predictions = fitted.Predict(documents, token);
            var csv = new StringBuilder();
            csv.Append("label");
            foreach (string c in fitted.Classes) csv.Append(',').Append(Quote(c));
            csv.Append('\n');
            foreach (var p in predictions)
            {
                csv.Append(Quote(fitted.MultiLabel ? string.Join('|', p.Labels) : p.Label));
                foreach (float probability in p.Probabilities) csv.Append(',').Append(probability.ToString("R", CultureInfo.InvariantCulture));
                csv.Append('\n');
            }
            string? folder = Path.GetDirectoryName(Path.GetFullPath(destination));
            if (folder != null) Directory.CreateDirectory(folder);
            Data.AtomicFile.WriteText(destination, csv.ToString());
            output.Result($"{predictions.Count:N0} predictions -> {destination}");
            return Task.FromResult(new CommandSummary { ["documents"] = predictions.Count, ["out"] = destination, ["classes"] = fitted.Classes });
        });
        return command;
    }

    static string Quote(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
}
