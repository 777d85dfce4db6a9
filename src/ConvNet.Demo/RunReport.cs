using System.Globalization;
using System.Text;
using ConvNet.Demo.Commands;

namespace ConvNet.Demo;

/// <summary>The run folder's <c>report.md</c>: what was trained on what, the numbers, and links to the figures.</summary>
internal sealed record RunReport(
    string DataPath, DataKind Kind, string ModelName, long Params, TrainSettings Settings, History History, EarlyStopping Early, int BestEpoch,
    string[] MetricNames, IReadOnlyList<(string Name, double[] Values)> Results, string SinglePrediction, Analysis Analysis,
    string EvalName, TimeSpan TrainTime, IReadOnlyList<string> ClassNames)
{
    public string ToMarkdown()
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("# ConvNet training run");
        sb.AppendLine();
        sb.AppendLine(ci, $"- Date: {DateTime.Now:yyyy-MM-dd HH:mm:ss}");
        string kind = Kind switch
        {
            DataKind.ClassFolders => "class folders",
            DataKind.ClassZip => "zip of class folders",
            DataKind.Split => "already split folders",
            _ => "MNIST IDX files",
        };
        sb.AppendLine(ci, $"- Data: `{DataPath}` ({kind}{(Kind is DataKind.ClassFolders or DataKind.ClassZip ? $", split in memory like split-folders: seed {Settings.SplitSeed}, ratio {Ratios.Format(Settings.Ratio)}" : "")}), {ClassNames.Count} classes");
        sb.AppendLine(ci, $"- Model: `{ModelName}`, {Params:N0} parameters (see `model.cnet`; class names in `classes.txt`)");
        sb.AppendLine(ci, $"- Training: Adam, sparse categorical cross-entropy from logits, batch size {Settings.BatchSize}, seed {Settings.Seed}, up to {Settings.Epochs} epochs");
        string stop = Early.StoppedEpoch > 0 ? $"stopped early at epoch {Early.StoppedEpoch + 1}" : $"ran all {History.Epochs} epochs";
        sb.AppendLine(ci, $"- Early stopping on val_accuracy (patience {Settings.Patience}): {stop}; weights restored from epoch {BestEpoch} (val_accuracy {Early.Best:0.0000})");
        sb.AppendLine(ci, $"- Training time: {ProgressView.FormatTime(TrainTime)}");
        sb.AppendLine();
        sb.AppendLine("## Results");
        sb.AppendLine();
        sb.AppendLine("| set | " + string.Join(" | ", MetricNames) + " |");
        sb.AppendLine("|---|" + string.Concat(MetricNames.Select(_ => "---:|")));
        foreach (var (name, values) in Results)
            sb.AppendLine(ci, $"| {name} | {string.Join(" | ", values.Select(v => v.ToString("G4", ci)))} |");
        sb.AppendLine();
        sb.AppendLine(SinglePrediction);
        sb.AppendLine();
        sb.AppendLine("## Learning curves");
        sb.AppendLine();
        sb.AppendLine("![Accuracy and loss per epoch, train vs val](curves.png)");
        sb.AppendLine();
        sb.AppendLine("Per-epoch values: [history.csv](history.csv).");
        sb.AppendLine();
        int wrong = Analysis.MistakeIndices.Count, total = Analysis.Correct.Length;
        sb.AppendLine("## Errors");
        sb.AppendLine();
        sb.AppendLine(ci, $"{wrong} of {total} {EvalName} images are misclassified. Each is shown beside a real training image of the class it was taken for:");
        sb.AppendLine();
        sb.AppendLine("![Misclassified images beside an example of the guessed class](errors.png)");
        sb.AppendLine();
        if (wrong > 0)
        {
            sb.AppendLine(ci, $"| {EvalName} # | true | guessed | confidence |");
            sb.AppendLine("|---:|---|---|---:|");
            foreach (int i in Analysis.MistakeIndices)
            {
                var m = Analysis.Mistakes[Analysis.MistakeIndices.ToList().IndexOf(i)];
                sb.AppendLine(ci, $"| {i} | {MandarinCache.Describe(m.True)} | {MandarinCache.Describe(m.Guessed)} | {Analysis.Confidence[i]:0.000} |");
            }
            sb.AppendLine();
        }
        sb.AppendLine("## Confidence");
        sb.AppendLine();
        double meanRight = Mean(Analysis.Confidence.Where((_, i) => Analysis.Correct[i]));
        double meanWrong = Mean(Analysis.Confidence.Where((_, i) => !Analysis.Correct[i]));
        sb.AppendLine(ci, $"Mean winning softmax probability: {meanRight:0.000} when right, {(double.IsNaN(meanWrong) ? "n/a" : meanWrong.ToString("0.000", ci))} when wrong.");
        sb.AppendLine();
        sb.AppendLine("![Histograms of the max softmax probability when right and when wrong](confidence.png)");
        return sb.ToString();
    }

    private static double Mean(IEnumerable<double> xs)
    {
        var a = xs.ToArray();
        return a.Length == 0 ? double.NaN : a.Average();
    }
}
