using System.CommandLine;
using System.Globalization;

namespace ConvNet.Demo.Commands;

/// <summary><c>convnet predict --model FILE IMAGE…</c>: the top-5 classes with probabilities for each image.</summary>
internal static class PredictCommand
{
    public static Command Create(CliHost host)
    {
        var model = new Option<string>("--model")
        {
            Description = "A model file written by `convnet train` (model.cnet; classes.txt next to it gives the class names), or its run folder.",
            HelpName = "FILE",
            Required = true,
        };
        var top = OptionFactory.Int("--top", "How many classes to show per image.", 5, 1);
        var images = new Argument<string[]>("IMAGE")
        {
            Description = "Image files (PNG, JPEG, BMP or GIF); resized to the model's input like the training loader.",
            Arity = ArgumentArity.OneOrMore,
        };
        var cmd = new Command("predict", "Classify images with a trained model and print the most likely classes.") { model, top, images };
        cmd.SetAction(pr => host.Execute(pr, ctx => Run(ctx, pr.GetValue(model)!, pr.GetValue(images)!, pr.GetValue(top))));
        return cmd;
    }

    public static int Run(CliContext ctx, string modelPath, string[] images, int top)
    {
        var (model, side) = ModelSidecar.LoadModel(ctx, modelPath);
        var shape = model.InputShape!;
        int h = shape[0], w = shape[1], c = shape[2], pad = side.Padding, per = h * w * c;
        var x = new Tensor(images.Length, h, w, c);
        for (int i = 0; i < images.Length; i++)
            ImageFile.Load(images[i], h - 2 * pad, w - 2 * pad, c, pad).CopyTo(x.Span.Slice(i * per, per));
        var probs = model.PredictProbabilities(x);
        int classes = probs.Shape[-1];
        top = Math.Min(top, classes);
        for (int i = 0; i < images.Length; i++)
        {
            var row = probs.Span.Slice(i * classes, classes).ToArray();
            var order = Enumerable.Range(0, classes).OrderByDescending(k => row[k]).ThenBy(k => k).Take(top).ToArray();
            ctx.WriteLine($"{images[i]}: {MandarinCache.Describe(side.ClassNames[order[0]])}");
            for (int r = 0; r < order.Length; r++)
            {
                string name = MandarinCache.Describe(side.ClassNames[order[r]]);
                ctx.WriteLine($"  {r + 1}. {name,-12} {(row[order[r]] * 100).ToString("0.00", CultureInfo.InvariantCulture),7}%");
            }
        }
        return ExitCodes.Success;
    }
}
