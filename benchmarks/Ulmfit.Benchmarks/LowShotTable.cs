using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Ulmfit.Benchmarks;

/// <summary>
/// The low-shot benchmark's table (benchmarks/lowshot/run.sh): every cell folder <c>DATASET-N-seedS</c> holds
/// <c>eval.json</c> (ulmfit evaluate of the fitted model) and <c>baseline.json</c> (mlnet-baseline on the same draw).
/// Rows are data set × label count; errors are the mean ± sample standard deviation over the seeds present.
/// </summary>
public static partial class LowShotTable
{
    [GeneratedRegex(@"^(?<dataset>[a-z0-9]+)-(?<labels>\d+)-seed(?<seed>\d+)$")]
    private static partial Regex CellName();

    public sealed record Cell(string Dataset, int Labels, int Seed, double? Ulmfit, double? Baseline, double? FitSeconds);

    public static IReadOnlyList<Cell> Read(string directory)
    {
        if (!Directory.Exists(directory)) throw new ArgumentException($"no results folder {directory}");
        var cells = new List<Cell>();
        foreach (string folder in Directory.EnumerateDirectories(directory).Order(StringComparer.Ordinal))
        {
            var match = CellName().Match(Path.GetFileName(folder));
            if (!match.Success) continue;
            double? fitSeconds = File.Exists(Path.Combine(folder, "fit-seconds"))
                ? double.Parse(File.ReadAllText(Path.Combine(folder, "fit-seconds")).Trim(), CultureInfo.InvariantCulture) : null;
            cells.Add(new Cell(match.Groups["dataset"].Value, int.Parse(match.Groups["labels"].Value, CultureInfo.InvariantCulture),
                int.Parse(match.Groups["seed"].Value, CultureInfo.InvariantCulture),
                ErrorRate(Path.Combine(folder, "eval.json")), ErrorRate(Path.Combine(folder, "baseline.json")), fitSeconds));
        }
        return cells;
    }

    // A missing or unfinished summary is a cell still to run, not an error.
    static double? ErrorRate(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path))?["error_rate"]?.GetValue<double>();
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{path}: not a JSON summary ({e.Message})");
        }
    }

    /// <summary>The Markdown table and one JSON object per row.</summary>
    public static (string Markdown, JsonArray Rows) Build(IReadOnlyList<Cell> cells)
    {
        var md = new StringBuilder();
        md.AppendLine("| data set | labels | seeds | ulmfit fit, test error | ML.NET default, test error | ML.NET − ulmfit (points) | fit time (s) |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        var rows = new JsonArray();
        foreach (var group in cells.GroupBy(c => (c.Dataset, c.Labels)).OrderBy(g => g.Key.Dataset, StringComparer.Ordinal).ThenBy(g => g.Key.Labels))
        {
            var both = group.Where(c => c.Ulmfit != null && c.Baseline != null).ToList();
            var ours = Summary(group.Where(c => c.Ulmfit != null).Select(c => 100 * c.Ulmfit!.Value).ToList());
            var theirs = Summary(group.Where(c => c.Baseline != null).Select(c => 100 * c.Baseline!.Value).ToList());
            // The difference is taken per seed (paired: the same draw), over the seeds that have both.
            var difference = Summary(both.Select(c => 100 * (c.Baseline!.Value - c.Ulmfit!.Value)).ToList());
            var seconds = group.Where(c => c.FitSeconds != null).Select(c => c.FitSeconds!.Value).ToList();
            // The seeds whose fit has been scored (a cell still running has only its baseline).
            var seeds = group.Where(c => c.Ulmfit != null).Select(c => c.Seed).ToList();
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {group.Key.Dataset} | {group.Key.Labels:N0} | {string.Join(" ", seeds)} | {Format(ours)} | {Format(theirs)} | {Format(difference)} | {(seconds.Count == 0 ? "" : seconds.Average().ToString("F0", CultureInfo.InvariantCulture))} |"));
            rows.Add(new JsonObject
            {
                ["dataset"] = group.Key.Dataset,
                ["labels"] = group.Key.Labels,
                ["seeds"] = new JsonArray([.. seeds.Select(seed => (JsonNode)seed)]),
                ["ulmfit_error_mean"] = ours?.Mean,
                ["ulmfit_error_std"] = ours?.Std,
                ["mlnet_error_mean"] = theirs?.Mean,
                ["mlnet_error_std"] = theirs?.Std,
                ["difference_mean"] = difference?.Mean,
            });
        }
        return (md.ToString(), rows);
    }

    public readonly record struct Stats(double Mean, double Std, int Count);

    /// <summary>Mean and sample standard deviation (0 for a single value); null for none.</summary>
    public static Stats? Summary(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return null;
        double mean = values.Average();
        double std = values.Count < 2 ? 0 : Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
        return new Stats(Math.Round(mean, 2), Math.Round(std, 2), values.Count);
    }

    static string Format(Stats? s) => s is not { } v ? "" : v.Count == 1
        ? v.Mean.ToString("F2", CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{v.Mean:F2} ± {v.Std:F2}");
}
