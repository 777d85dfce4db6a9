using System.CommandLine;
using System.Globalization;
using ConvNet.Demo.Inspection;

namespace ConvNet.Demo.Commands;

/// <summary>
/// <c>convnet explain --layer NAME --at y,x,c</c>: every number behind one output value of a Conv2D, Dense or pooling
/// layer (input patch, kernel, products, sum, bias, activation), checked against the layer's real forward pass.
/// </summary>
internal static class ExplainCommand
{
    public static Command Create(CliHost host)
    {
        var model = new Option<string>("--model")
        {
            Description = "A model file written by `convnet train` (or its run folder), or mandarin|lenet5|alexnet for a freshly built, untrained model.",
            HelpName = "FILE|mandarin|lenet5|alexnet",
            DefaultValueFactory = _ => "mandarin",
        };
        var layer = new Option<string>("--layer")
        {
            Description = "The layer's Keras-style name, e.g. conv2d, conv2d_1, max_pooling2d, dense (see `convnet summary`).",
            HelpName = "NAME",
            Required = true,
        };
        var at = new Option<int[]?>("--at")
        {
            Description = "Which output value: y,x,c (row, column, channel) for Conv2D and pooling layers, the unit index for Dense.",
            HelpName = "y,x,c|u",
            Required = true,
            CustomParser = r =>
            {
                string text = string.Join(",", r.Tokens.Select(t => t.Value));
                var values = ParseAt(text, out string? error);
                if (values is null) r.AddError(error!);
                return values;
            },
        };
        var image = new Option<string?>("--image")
        {
            Description = "The image to run through the model (PNG, JPEG, BMP or GIF; resized like the training loader). Default: a stand-in test image, generated sample 'kou'-5.",
            HelpName = "FILE",
        };
        var seed = OptionFactory.Seed("--seed", "Weight seed when --model names an architecture (ignored for model files).");
        var full = new Option<bool>("--full")
        {
            Description = $"Print every product even for large layers (Conv2D windows over {Explainer.MaxDetailedConvProducts} products, Dense layers over {Explainer.MaxDetailedDenseInputs} inputs).",
        };
        var cmd = new Command("explain",
            "Show how one output value of a Conv2D, Dense or pooling layer is computed — input patch, kernel, products, sum, bias, activation — and check it against the layer.")
        {
            model, layer, at, image, seed, full,
        };
        cmd.SetAction(pr => host.Execute(pr, ctx => Run(ctx, pr.GetValue(model)!, pr.GetValue(layer)!, pr.GetValue(at)!,
            pr.GetValue(image), pr.GetValue(seed), pr.GetValue(full))));
        return cmd;
    }

    /// <summary>Parses <c>--at</c>: one to three non-negative integers separated by commas; null and an error message otherwise.</summary>
    public static int[]? ParseAt(string text, out string? error)
    {
        error = null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new int[parts.Length];
        bool ok = parts.Length is >= 1 and <= 3;
        for (int i = 0; ok && i < parts.Length; i++)
            ok = int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]);
        if (ok) return values;
        error = $"--at must be y,x,c (row, column, channel; non-negative integers) or a single unit index for a Dense layer, got '{text}'.";
        return null;
    }

    public static int Run(CliContext ctx, string modelName, string layerName, int[] at, string? image, int seed, bool full)
    {
        var input = InspectionInput.Resolve(ctx, modelName, image, seed);
        var layers = input.Model.Layers;
        var explainable = layers.Where(Explainer.CanExplain).Select(l => l.Name).ToArray();
        int index = Enumerable.Range(0, layers.Count).FirstOrDefault(i => layers[i].Name == layerName, -1);
        if (index < 0)
            throw new CliException($"No layer '{layerName}' in the model; layers you can explain: {string.Join(", ", explainable)}.");
        var layer = layers[index];
        if (!Explainer.CanExplain(layer))
            throw new CliException($"Layer '{layerName}' ({layer.TypeName}) has no per-value arithmetic to show; layers you can explain: {string.Join(", ", explainable)}.");
        Explainer.CheckIndex(layer, at);

        var o = ctx.Out;
        o.WriteLine($"Model: {input.ModelText}");
        o.WriteLine($"Image: {input.ImageText}");
        o.WriteLine();
        var (inputs, outputs) = input.Trace(index);
        var result = Explainer.Explain(o, input.Model, index, inputs[index], outputs[index], at, full);
        string diff = result.Diff.ToString("0.0e+00", CultureInfo.InvariantCulture);
        if (!result.Matches)
            throw new CliException($"The value computed by hand, {Explainer.F6(result.Value)}, does not match the layer's output {Explainer.F6(result.LayerValue)} " +
                                   $"(|diff| = {diff}, more than 1e-4 relative): the layer computes something else than shown.");
        o.WriteLine($"matches the layer's output: {Explainer.F6(result.LayerValue)} (|diff| = {diff})");
        if (input.Untrained)
            o.WriteLine("(untrained weights: train a model with `convnet train` and pass --model run/model.cnet to see learned filters)");
        return ExitCodes.Success;
    }
}
