using ScottPlot;
using Ulmfit.Training;

namespace Ulmfit.Cli.Rendering;

/// <summary>PNG charts the CLI writes (ScottPlot); each is written to a temp file and renamed into place.</summary>
internal static class Plots
{
    /// <summary>Loss against learning rate (log scale), raw and smoothed, with the suggestion marked.</summary>
    public static void LearningRateCurve(LearningRateFinderResult result, string path)
    {
        var plot = new Plot();
        double[] x = result.Points.Select(p => Math.Log10(p.LearningRate)).ToArray();
        var raw = plot.Add.Scatter(x, result.Points.Select(p => p.Loss).ToArray());
        raw.LegendText = "loss";
        raw.MarkerSize = 0;
        raw.LineWidth = 1;
        raw.Color = Colors.Gray.WithAlpha(0.6);
        var smooth = plot.Add.Scatter(x, result.Points.Select(p => p.SmoothedLoss).ToArray());
        smooth.LegendText = "smoothed loss";
        smooth.MarkerSize = 0;
        smooth.LineWidth = 2;
        var line = plot.Add.VerticalLine(Math.Log10(result.SuggestedLearningRate));
        line.LegendText = $"suggested {result.SuggestedLearningRate:G3}";
        line.LinePattern = LinePattern.Dashed;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => $"1e{v:0.#}" };
        plot.XLabel("learning rate (log scale)");
        plot.YLabel("loss");
        plot.Title("Learning-rate range test");
        plot.ShowLegend();
        Save(plot, path);
    }

    internal static void Save(Plot plot, string path, int width = 800, int height = 500)
    {
        string temp = path + ".tmp.png";
        plot.SavePng(temp, width, height);
        File.Move(temp, path, overwrite: true);
    }
}

/// <summary>Writes a text file atomically (temp + rename).</summary>
internal static class AtomicText
{
    public static void Write(string path, string text)
    {
        string temp = path + ".tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }
}
