using System.CommandLine;
using ConvNet.Onnx;

namespace ConvNet.Demo.Commands;

/// <summary><c>convnet export --model FILE --onnx OUT.onnx [--layout nhwc|nchw] [--opset 17]</c>: a model file to ONNX.</summary>
internal static class ExportCommand
{
    public static Command Create(CliHost host)
    {
        var model = new Option<string>("--model") { Description = "A model file written by `convnet train` (or its run folder), or a zoo name (see `convnet summary --help`).", HelpName = "FILE|NAME", Required = true };
        var onnx = new Option<string>("--onnx") { Description = "The ONNX file to write.", HelpName = "OUT.onnx", Required = true };
        var layout = new Option<string>("--layout") { Description = "Input layout of the exported graph: nhwc (ConvNet's; a Transpose inside the graph) or nchw.", HelpName = "nhwc|nchw", DefaultValueFactory = _ => "nhwc" };
        var opset = new Option<int>("--opset") { Description = "ONNX opset, 13–17.", HelpName = "N", DefaultValueFactory = _ => 17 };
        var cmd = new Command("export", "Write a model as ONNX (checked against ONNX Runtime by the tests), for serving outside .NET.") { model, onnx, layout, opset };
        cmd.SetAction(pr => host.Execute(pr, ctx => Run(ctx, pr.GetValue(model)!, pr.GetValue(onnx)!, pr.GetValue(layout)!, pr.GetValue(opset))));
        return cmd;
    }

    public static int Run(CliContext ctx, string name, string output, string layoutName, int opset)
    {
        var layout = layoutName.ToLowerInvariant() switch
        {
            "nhwc" => OnnxLayout.Nhwc,
            "nchw" => OnnxLayout.Nchw,
            _ => throw new CliException($"--layout must be nhwc or nchw, got '{layoutName}'.", ExitCodes.Usage),
        };
        if (opset is < 13 or > 17) throw new CliException($"--opset must be 13–17, got {opset}.", ExitCodes.Usage);
        Model model = ModelZoo.GraphNames.Contains(name) ? ModelZoo.CreateGraph(name)
            : ModelZoo.Names.Contains(name) ? ModelZoo.Create(name, ModelZoo.InputFor(name) is var (h, w, c) ? [h, w, c] : [], name switch { "mandarin" => 57, "lenet5" => 10, _ => 1000 })
            : ModelSidecar.LoadModel(ctx, name).Model;
        if (Directory.Exists(output)) throw new CliException($"--onnx \"{output}\" is a directory; give a file name.");
        try { OnnxExporter.Save(model, output, opset, layout); }
        catch (NotSupportedException e) { throw new CliException($"Model '{model.Name}' cannot be exported: {e.Message}"); }
        ctx.Out.WriteLine($"Wrote \"{output}\" ({new FileInfo(output).Length:N0} bytes): model '{model.Name}', opset {opset}, " +
            $"the graph takes {layoutName.ToUpperInvariant()} input (the model's input is {Layer.Fmt(model.InputShape!, true)} in NHWC).");
        return ExitCodes.Success;
    }
}
