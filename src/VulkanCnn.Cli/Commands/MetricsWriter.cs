using System.Globalization;
using System.Text;
using VulkanCnn.Training;

namespace VulkanCnn.Cli.Commands;

/// <summary>Training metrics next to the checkpoint: CSV (appended per epoch), curve PNG (ScottPlot), confusion matrix CSV.</summary>
internal sealed class MetricsWriter
{
    private readonly List<EpochResult> _epochs = new();

    public MetricsWriter(string checkpointPath)
    {
        string stem = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!,
            Path.GetFileNameWithoutExtension(checkpointPath));
        CsvPath = stem + ".metrics.csv";
        PngPath = stem + ".curve.png";
        ConfusionPath = stem + ".confusion.csv";
        if (File.Exists(CsvPath))
            foreach (var line in File.ReadLines(CsvPath).Skip(1))
            {
                var f = line.Split(',');
                if (f.Length >= 6)
                    _epochs.Add(new EpochResult(int.Parse(f[0], CultureInfo.InvariantCulture),
                        double.Parse(f[1], CultureInfo.InvariantCulture),
                        double.Parse(f[2], CultureInfo.InvariantCulture), f[3].Length > 0 ? double.Parse(f[3], CultureInfo.InvariantCulture)
                            : null,
                        double.Parse(f[4], CultureInfo.InvariantCulture), double.Parse(f[5], CultureInfo.InvariantCulture)));
            }
    }

    public string CsvPath { get; }
    public string PngPath { get; }
    public string ConfusionPath { get; }

    public void Add(EpochResult e)
    {
        _epochs.RemoveAll(x => x.Epoch >= e.Epoch); // a resumed run rewrites the epochs it repeats
        _epochs.Add(e);
        var sb = new StringBuilder("epoch,train_loss,train_accuracy,test_accuracy,seconds,images_per_second\n");
        foreach (var x in _epochs)
        {
            string test = x.TestAccuracy is { } t ? t.ToString("R", CultureInfo.InvariantCulture) : "";
            sb.Append(CultureInfo.InvariantCulture,
                $"{x.Epoch},{x.TrainLoss:R},{x.TrainAccuracy:R},{test},{x.Seconds:R},{x.ImagesPerSecond:R}\n");
        }
        File.WriteAllText(CsvPath, sb.ToString());
    }

    public void WriteCurve()
    {
        if (_epochs.Count == 0) return;
        var plot = new ScottPlot.Plot();
        double[] x = _epochs.Select(e => (double)e.Epoch).ToArray();
        var loss = plot.Add.Scatter(x, _epochs.Select(e => e.TrainLoss).ToArray());
        loss.LegendText = "train loss";
        var acc = plot.Add.Scatter(x, _epochs.Select(e => e.TrainAccuracy).ToArray());
        acc.LegendText = "train accuracy";
        if (_epochs.All(e => e.TestAccuracy is not null))
        {
            var test = plot.Add.Scatter(x, _epochs.Select(e => e.TestAccuracy!.Value).ToArray());
            test.LegendText = "test accuracy";
        }
        plot.Title("Training curve");
        plot.XLabel("epoch");
        plot.ShowLegend();
        plot.SavePng(PngPath, 800, 500);
    }

    public void WriteConfusion(Evaluation evaluation, IReadOnlyList<string> classes)
    {
        var sb = new StringBuilder("true\\predicted," + string.Join(",", classes.Select(c => c.Replace(',', ' '))) + "\n");
        for (int t = 0; t < classes.Count; t++)
            sb.Append(classes[t].Replace(',', ' ')).Append(',').AppendJoin(",",
                Enumerable.Range(0, classes.Count).Select(p => evaluation.Confusion[t, p])).Append('\n');
        File.WriteAllText(ConfusionPath, sb.ToString());
    }
}
