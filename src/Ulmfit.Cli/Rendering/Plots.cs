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

    /// <summary>The confusion matrix as a heat map: rows are true classes, columns predicted ones, counts written in.</summary>
    public static void ConfusionMatrix(Classification.ClassificationMetrics metrics, string path)
    {
        int n = metrics.Classes.Count;
        var plot = new Plot();
        var values = new double[n, n];
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++) values[r, c] = metrics.ConfusionMatrix[r][c];
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Blues();
        for (int r = 0; r < n; r++)
            for (int c = 0; c < n; c++)
            {
                var label = plot.Add.Text(metrics.ConfusionMatrix[r][c].ToString(), c, n - 1 - r);
                label.LabelAlignment = Alignment.MiddleCenter;
                label.LabelFontSize = n > 12 ? 8 : 14;
            }
        double[] ticks = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.SetTicks(ticks, [.. metrics.Classes]);
        plot.Axes.Left.SetTicks(ticks, [.. metrics.Classes.Reverse()]);
        plot.XLabel("predicted");
        plot.YLabel("true");
        plot.Title($"Confusion matrix (accuracy {metrics.Accuracy:P1})");
        plot.Add.ColorBar(heatmap);
        Save(plot, path, 200 + 60 * n, 150 + 60 * n);
    }

    internal static void Save(Plot plot, string path, int width = 800, int height = 500)
    {
        byte[] png = plot.GetImageBytes(width, height, ImageFormat.Png);
        Data.AtomicFile.Write(path, stream => stream.Write(png));
    }
}
