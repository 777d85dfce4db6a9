using System.CommandLine;
using System.Globalization;
using Spectre.Console;

namespace ConvNet.Demo.Commands;

/// <summary><c>convnet evaluate --model FILE --data PATH</c>: loss, metrics and a per-class accuracy table.</summary>
internal static class EvaluateCommand
{
    public static Command Create(CliHost host)
    {
        var model = new Option<string>("--model")
        {
            Description = "A model file written by `convnet train` (or its run folder).",
            HelpName = "FILE",
            Required = true,
        };
        var data = new Option<string>("--data")
        {
            Description = "Images to evaluate on: a split folder/zip (its test part, else val), a folder or zip of class folders (all images), " +
                          "or an MNIST folder (its test set). Class folders must be classes the model knows.",
            HelpName = "PATH",
            Required = true,
        };
        var batch = OptionFactory.Int("--batch-size", "Batch size for inference.", 32, 1);
        var cmd = new Command("evaluate", "Evaluate a trained model: loss, accuracy, top-5 accuracy and per-class accuracy.") { model, data, batch };
        cmd.SetAction(pr => host.Execute(pr, ctx => Run(ctx, pr.GetValue(model)!, pr.GetValue(data)!, pr.GetValue(batch))));
        return cmd;
    }

    public static int Run(CliContext ctx, string modelPath, string dataPath, int batchSize)
    {
        var (model, side) = ModelSidecar.LoadModel(ctx, modelPath);
        var (data, what) = DataSources.LoadForEvaluation(ctx, dataPath, model.InputShape!, side.ClassNames, side.Padding);
        ModelZoo.Compile(model);
        var values = model.Evaluate(data, batchSize);
        var names = model.EvaluateNames.Select(ModelZoo.Short).ToArray();
        ctx.WriteLine($"Evaluated on {what}: {data.Count} images.");
        ctx.WriteLine($"[{string.Join(", ", names)}] = {TrainCommand.Keras(values)}");
        var probs = model.PredictProbabilities(data.X, batchSize);
        var analysis = Analysis.Of(probs, data, null, side.ClassNames);
        var table = new Table().Border(TableBorder.Rounded).Title("Per-class accuracy");
        table.AddColumn("Class");
        table.AddColumn(new TableColumn("Images").RightAligned());
        table.AddColumn(new TableColumn("Correct").RightAligned());
        table.AddColumn(new TableColumn("Accuracy").RightAligned());
        table.AddColumn("Most often confused with");
        foreach (var (k, count, right) in analysis.PerClass(data, side.ClassNames.Count))
        {
            var confused = Enumerable.Range(0, data.Count).Where(i => data.Y[i] == k && !analysis.Correct[i])
                .GroupBy(i => analysis.Predicted[i]).OrderByDescending(g => g.Count()).ThenBy(g => g.Key)
                .Select(g => $"{side.ClassNames[g.Key]} ×{g.Count()}").FirstOrDefault() ?? "";
            table.AddRow(
                Markup.Escape(MandarinCache.Describe(side.ClassNames[k])),
                count.ToString(CultureInfo.InvariantCulture),
                right.ToString(CultureInfo.InvariantCulture),
                ((double)right / count).ToString("0.000", CultureInfo.InvariantCulture),
                Markup.Escape(confused));
        }
        ctx.Console.Write(table);
        return ExitCodes.Success;
    }
}
