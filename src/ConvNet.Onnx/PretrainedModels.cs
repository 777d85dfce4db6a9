namespace ConvNet.Onnx;

/// <summary>
/// Pretrained ONNX models that ship in NuGet packages, loaded as ConvNet models. Nothing is downloaded at run time:
/// the package must have been restored into the NuGet packages folder (e.g. by a project with
/// <c>&lt;PackageDownload Include="Microsoft.ML.DnnImageFeaturizer.ResNet18" Version="[0.23.1]" /&gt;</c>, which fetches
/// the package alone, without its ML.NET dependencies), or its <c>tools/DnnImageModels</c> folder given explicitly.
/// </summary>
public static class PretrainedModels
{
    /// <summary>The NuGet package holding the ImageNet ResNet-18 (MIT).</summary>
    public const string ResNet18Package = "Microsoft.ML.DnnImageFeaturizer.ResNet18";
    /// <summary>The package version these loaders were checked against.</summary>
    public const string ResNet18PackageVersion = "0.23.1";

    /// <summary>
    /// ImageNet ResNet-18 without its classifier (CNTK 2.6, ML.NET's <c>ResNet18.onnx</c>): NHWC input (N, 224, 224, 3) preprocessed by
    /// <see cref="ResNet18ImageNetPreprocessing"/> (BGR minus the mean image), output (N, 1, 1, 512) features. A functional
    /// <see cref="Model"/> with 22 Conv2D, 22 BatchNormalization (or none with <paramref name="foldBatchNorm"/>), 9 Add and
    /// explicit zero padding where CNTK's pads differ from TF's Same. Freeze it (<c>Trainable = false</c>) and apply it with
    /// <c>training: false</c> for transfer learning.
    /// </summary>
    /// <param name="modelsDirectory">The package's <c>tools/DnnImageModels</c> folder; null looks in the NuGet packages folder.</param>
    /// <param name="foldBatchNorm">Fold the BatchNormalization layers into the convolutions (inference only).</param>
    /// <exception cref="FileNotFoundException">The package is not restored; the message says how to restore it.</exception>
    public static Model ResNet18ImageNet(string? modelsDirectory = null, bool foldBatchNorm = false)
    {
        var model = OnnxImporter.Load(File(modelsDirectory, "ResNet18Onnx", "ResNet18.onnx"), foldBatchNorm);
        model.Name = "resnet18_imagenet";
        return model;
    }

    /// <summary>The preprocessing ResNet-18 expects, read from the package's <c>ResNetPreprocess.onnx</c>: 0–255 RGB (N, 224, 224, 3) → BGR minus the mean image.</summary>
    /// <inheritdoc cref="ResNet18ImageNet" path="/param[@name='modelsDirectory']"/>
    /// <exception cref="FileNotFoundException">The package is not restored; the message says how to restore it.</exception>
    public static MeanImagePreprocessing ResNet18ImageNetPreprocessing(string? modelsDirectory = null) =>
        MeanImagePreprocessing.Load(File(modelsDirectory, "ResNetPrepOnnx", "ResNetPreprocess.onnx"));

    /// <summary>The package's <c>tools/DnnImageModels</c> folder in the NuGet packages folder (<c>NUGET_PACKAGES</c>, else
    /// <c>~/.nuget/packages</c>), or null when it is not there.</summary>
    public static string? FindResNet18Directory()
    {
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } env ? env
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var dir = Path.Combine(root, ResNet18Package.ToLowerInvariant(), ResNet18PackageVersion, "tools", "DnnImageModels");
        return Directory.Exists(dir) ? dir : null;
    }

    private static string File(string? directory, string folder, string name)
    {
        var dir = directory ?? FindResNet18Directory()
            ?? throw new FileNotFoundException($"The ImageNet ResNet-18 is not restored: NuGet package {ResNet18Package} {ResNet18PackageVersion} was not found in the NuGet packages folder. " +
                $"Restore it (e.g. <PackageDownload Include=\"{ResNet18Package}\" Version=\"[{ResNet18PackageVersion}]\" /> in a project), or pass its tools/DnnImageModels folder.");
        var path = Path.Combine(dir, folder, name);
        return System.IO.File.Exists(path) ? path : throw new FileNotFoundException($"'{path}' does not exist; expected the {ResNet18Package} {ResNet18PackageVersion} layout (tools/DnnImageModels/{folder}/{name}).", path);
    }
}
