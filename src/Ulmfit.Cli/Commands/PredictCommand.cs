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
        var input = new Option<string>("--input") { Description = "Documents to classify: CSV, .txt (documents separated by a blank line; --line-per-document for one per line) or a folder of .txt files; '-' reads one document per line from stdin.", Required = true };
        var outPath = new Option<string?>("--out") { Description = "Output CSV (required unless --input -)." };
        var idColumn = new Option<string?>("--id-column") { Description = "CSV column copied to the output's last column, to join predictions back (default: 'id' when the input has one)." };
        var inputs = new InputOptions();
        var dtype = new DtypeOption(inference: true);
        var command = new Command("predict", "Classify documents with a trained model: one output row per input row, empty text getting an empty prediction.") { model, input, outPath, idColumn };
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
                int count = 0, empty = 0;
                string? line;
                while ((line = output.In.ReadLine()) != null)
                {
                    token.ThrowIfCancellationRequested();
                    count++;
                    if (string.IsNullOrWhiteSpace(line))
                    {
                        // An empty line keeps its place in the output: the n-th JSON line answers the n-th input line.
                        empty++;
                        output.Out.WriteLine("""{"label":null,"probabilities":null}""");
                        output.Out.Flush();
                        continue;
                    }
                    var p = fitted.Predict([line], token)[0];
                    var probabilities = fitted.Classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => (double)p.Probabilities[x.i]);
                    output.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["label"] = fitted.MultiLabel ? string.Join('|', p.Labels) : p.Label, ["probabilities"] = probabilities }));
                    output.Out.Flush();
                }
                if (empty > 0) output.Info($"warning: {empty:N0} empty line(s) got a null prediction");
                return Task.FromResult(new CommandSummary { ["documents"] = count, ["empty_documents"] = empty });
            }
            string destination = parse.GetValue(outPath) ?? throw new OptionException("--out is required (or use --input - for JSON lines on stdout)");
            OutputPath.CheckWritable(destination, "--out");
            string? namedId = parse.GetValue(idColumn);
            var reader = inputs.Reader(parse) with { KeepEmpty = true };
            // The default id column is used only where it is not also the text.
            string? id = namedId ?? (reader.TextColumns.Contains("id", StringComparer.Ordinal) ? null : "id");
            reader = reader with { IdColumn = id, IdRequired = namedId != null };
            reader.Validate();
            var report = new ReadReport();
            var documents = DocumentReader.Read(source, reader, report).ToList();
            // Empty documents are not sent to the model; they get an empty row so output row n is input row n.
            var texts = documents.Where(d => !d.IsBlank).ToList();
            bool withIds = report.HasIdColumn;
            if (withIds && (reader.IdColumn == "label" || fitted.Classes.Contains(reader.IdColumn!, StringComparer.Ordinal)))
                throw new OptionException($"the id column '{reader.IdColumn}' has the name of an output column (the label or a class's probability): " +
                                          "rename it in the input, or pass --id-column with another column");
            var predictions = fitted.Predict(texts, token);
            var csv = new StringBuilder();
            csv.Append("label");
            foreach (string c in fitted.Classes) csv.Append(',').Append(Quote(c));
            if (withIds) csv.Append(',').Append(Quote(reader.IdColumn!));
            csv.Append('\n');
            int next = 0;
            foreach (var document in documents)
            {
                if (document.IsBlank)
                {
                    csv.Append(',', fitted.Classes.Count);
                }
                else
                {
                    var p = predictions[next++];
                    csv.Append(Quote(fitted.MultiLabel ? string.Join('|', p.Labels) : p.Label));
                    foreach (float probability in p.Probabilities) csv.Append(',').Append(probability.ToString("R", CultureInfo.InvariantCulture));
                }
                if (withIds) csv.Append(',').Append(Quote(document.Id ?? ""));
                csv.Append('\n');
            }
            Data.AtomicFile.WriteText(destination, csv.ToString());
            if (report.EmptyKept > 0)
                output.Info($"warning: {report.EmptyKept:N0} document(s) with empty text got an empty prediction, first at {string.Join(", ", report.SkippedExamples.Take(3))}");
            output.Result($"{documents.Count:N0} predictions -> {destination}" + (withIds ? $" (with column '{reader.IdColumn}')" : ""));
            return Task.FromResult(new CommandSummary
            {
                ["documents"] = documents.Count, ["empty_documents"] = report.EmptyKept, ["out"] = destination, ["classes"] = fitted.Classes,
                ["id_column"] = withIds ? reader.IdColumn : null,
            });
        });
        return command;
    }

    static string Quote(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
}
