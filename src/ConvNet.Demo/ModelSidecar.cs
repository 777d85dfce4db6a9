using System.Globalization;
using System.Text;
using ConvNet.IO;

namespace ConvNet.Demo;

/// <summary>
/// What the model file does not store: the class names (<c>classes.txt</c>, one per line, in label order) and the
/// zero padding applied to images before they reach the model (<c>padding.txt</c>, only written when non-zero).
/// Both live next to the model file.
/// </summary>
internal sealed record ModelSidecar(IReadOnlyList<string> ClassNames, int Padding)
{
    public const string ClassesFile = "classes.txt", PaddingFile = "padding.txt";

    /// <summary>Writes the side files into <paramref name="folder"/>.</summary>
    public void Write(string folder)
    {
        File.WriteAllText(Path.Combine(folder, ClassesFile), string.Join('\n', ClassNames) + "\n", new UTF8Encoding(false));
        string pad = Path.Combine(folder, PaddingFile);
        if (Padding != 0) File.WriteAllText(pad, Padding.ToString(CultureInfo.InvariantCulture) + "\n");
        else if (File.Exists(pad)) File.Delete(pad);
    }

    /// <summary>Loads a model file and its side files (class names default to "0", "1", … when classes.txt is missing).</summary>
    public static (Sequential Model, ModelSidecar Sidecar) LoadModel(CliContext ctx, string modelPath) => Load(ctx, modelPath, Sequential.Load);

    /// <summary>Like <see cref="LoadModel"/> for any model file, Sequential or functional (class names from classes.txt,
    /// else those stored in the model, else numbers).</summary>
    public static (Model Model, ModelSidecar Sidecar) LoadAnyModel(CliContext ctx, string modelPath) => Load(ctx, modelPath, Model.Load);

    private static (T Model, ModelSidecar Sidecar) Load<T>(CliContext ctx, string modelPath, Func<string, T> read) where T : Model
    {
        if (Directory.Exists(modelPath))
        {
            string inside = Path.Combine(modelPath, "model.cnet");
            if (!File.Exists(inside) && !Directory.Exists(inside))
                throw new CliException($"Model path \"{modelPath}\" is a directory without a model.cnet file; pass the model file or the run folder that holds it.");
            modelPath = inside;
        }
        if (!File.Exists(modelPath) && !Directory.Exists(modelPath))
            throw new CliException($"Model file \"{modelPath}\" does not exist.");
        // Only a regular file is opened: a FIFO or device would block or read forever, a directory gets its own message.
        if (SafeFile.WhyNotRegular(modelPath) is { } why)
            throw new CliException($"Model file \"{modelPath}\" {why}.");
        var model = read(modelPath);
        if (model.InputShape is not { Count: 3 })
            throw new CliException($"Model file \"{modelPath}\" expects input {Layer.Fmt(model.InputShape!, true)}; the demo handles image models (height, width, channels) only.");
        int classes = model.OutputShape[^1];
        string folder = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        string classesPath = Path.Combine(folder, ClassesFile);
        IReadOnlyList<string> names;
        if (File.Exists(classesPath))
        {
            names = ReadSmallText(classesPath, "Class list").Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToArray();
            if (names.Count != classes)
                throw new CliException($"\"{classesPath}\" lists {names.Count} classes but model \"{modelPath}\" has {classes} outputs.");
        }
        else if (model.ClassNames is { } stored && stored.Count == classes)
        {
            names = stored;
        }
        else
        {
            names = Enumerable.Range(0, classes).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
            ctx.Err.WriteLine($"convnet: warning: no {ClassesFile} next to the model; classes are shown as numbers.");
        }
        int padding = 0;
        string padPath = Path.Combine(folder, PaddingFile);
        if (File.Exists(padPath) && (!int.TryParse(ReadSmallText(padPath, "Padding file").Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out padding) || padding < 0))
            throw new CliException($"\"{padPath}\" does not hold a non-negative integer.");
        if (2 * padding >= Math.Min(model.InputShape[0], model.InputShape[1]))
            throw new CliException($"Padding {padding} from \"{padPath}\" does not fit the model input {Layer.Fmt(model.InputShape, true)}.");
        return (model, new ModelSidecar(names, padding));
    }

    /// <summary>A side file: a regular file of at most 1 MiB, as UTF-8 text.</summary>
    private static string ReadSmallText(string path, string what)
    {
        if (SafeFile.WhyNotRegular(path) is { } why) throw new CliException($"{what} \"{path}\" {why}.");
        return new UTF8Encoding(false).GetString(SafeFile.ReadAllBytes(path, 1 << 20, what));
    }
}
