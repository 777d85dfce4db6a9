using System.CommandLine;

namespace ConvNet.Demo.Commands;

/// <summary><c>convnet summary [--model NAME|FILE]</c>: the Keras-style layer table.</summary>
internal static class SummaryCommand
{
    public static Command Create(CliHost host)
    {
        var model = new Option<string>("--model")
        {
            Description = "mandarin (the lecture's CNN, 849,977 params), lenet5 (61,706), alexnet (62,378,344), inception-module (163,696), " +
                "residual-block (303,616), mandarin-functional (849,977), xception (Keras' Xception, 299×299×3, 22,910,480), " +
                "resnet18 (torchvision's ResNet-18, 224×224×3, 11,699,112), resnet18-imagenet (the pretrained ImageNet ResNet-18 from NuGet), or a model file.",
            HelpName = "mandarin|lenet5|alexnet|inception-module|residual-block|mandarin-functional|xception|resnet18|resnet18-imagenet|FILE",
            DefaultValueFactory = _ => "mandarin",
        };
        var cmd = new Command("summary", "Print a model's Keras-style summary: layers, output shapes and parameter counts.") { model };
        cmd.SetAction(pr => host.Execute(pr, ctx => Run(ctx, pr.GetValue(model)!)));
        return cmd;
    }

    public static int Run(CliContext ctx, string name)
    {
        Model model;
        if (name == "resnet18-imagenet")
        {
            try { model = Onnx.PretrainedModels.ResNet18ImageNet(); }
            catch (FileNotFoundException e) { throw new CliException(e.Message); }
        }
        else if (ModelZoo.GraphNames.Contains(name)) model = ModelZoo.CreateGraph(name);
        else if (ModelZoo.Names.Contains(name))
        {
            var (h, w, c) = ModelZoo.InputFor(name);
            model = ModelZoo.Create(name, [h, w, c], name switch { "mandarin" => 57, "lenet5" => 10, _ => 1000 });
        }
        else if (File.Exists(name) || Directory.Exists(name))
        {
            model = ModelSidecar.LoadModel(ctx, name).Model;
        }
        else
        {
            throw ModelZoo.NeitherNameNorFile(name);
        }
        ctx.Out.Write(model.Summary());
        return ExitCodes.Success;
    }
}
