using System.Globalization;

namespace ConvNet;

/// <summary>Recreates layers from their saved type and configuration (only the known, safe layer types).</summary>
internal static class LayerFactory
{
    public static Layer Create(string type, string name, IReadOnlyDictionary<string, string> c)
    {
        static int I(string s) => int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture);
        static (int, int) P(string s) { var p = s.Split(','); return p.Length == 2 ? (I(p[0]), I(p[1])) : throw new FormatException($"'{s}' is not a pair"); }
        static Padding Pad(string s) => s switch { "same" => Padding.Same, "valid" => Padding.Valid, _ => throw new FormatException($"unknown padding '{s}'") };
        static bool B(string s) => s switch { "true" => true, "false" => false, _ => throw new FormatException($"'{s}' is not a boolean") };
        static float F(string s) => float.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
        static FillMode Fill(IReadOnlyDictionary<string, string> c) => RandomPreprocessingLayer.ParseFillMode(c["fill_mode"]);
        static Interpolation Interp(IReadOnlyDictionary<string, string> c) => RandomPreprocessingLayer.ParseInterpolation(c["interpolation"]);
        return type switch
        {
            "InputLayer" => new Input(c["shape"].Split(',').Select(I).ToArray()) { Name = name },
            "Rescaling" => new Rescaling(F(c["scale"]), F(c["offset"]), name),
            "Conv2D" => new Conv2D(I(c["filters"]), P(c["kernel_size"]), P(c["strides"]), Pad(c["padding"]), ActivationOps.Parse(c["activation"]), B(c["use_bias"]), name),
            "MaxPooling2D" => new MaxPooling2D(P(c["pool_size"]), P(c["strides"]), Pad(c["padding"]), name),
            "AveragePooling2D" => new AveragePooling2D(P(c["pool_size"]), P(c["strides"]), Pad(c["padding"]), name),
            "GlobalAveragePooling2D" => new GlobalAveragePooling2D(name),
            "Flatten" => new Flatten(name),
            "Dense" => new Dense(I(c["units"]), ActivationOps.Parse(c["activation"]), B(c["use_bias"]), name),
            "ReLU" => new ReLU(name),
            "Tanh" => new Tanh(name),
            "Softmax" => new Softmax(name),
            "Add" => new Add(name),
            "Subtract" => new Subtract(name),
            "Multiply" => new Multiply(name),
            "Average" => new Average(name),
            "Concatenate" => new Concatenate(I(c["axis"]), name),
            "Activation" => new ActivationLayer(ActivationOps.Parse(c["activation"]), name),
            "LeakyReLU" => new LeakyReLU(F(c["negative_slope"]), name),
            "ZeroPadding2D" => new ZeroPadding2D(RowWindowCopy.Parse(c["padding"]), name),
            "Cropping2D" => new Cropping2D(RowWindowCopy.Parse(c["cropping"]), name),
            "BatchNormalization" => new BatchNormalization(I(c["axis"]), F(c["momentum"]), F(c["epsilon"]), B(c["center"]), B(c["scale"]), name),
            "GlobalMaxPooling2D" => new GlobalMaxPooling2D(name),
            "Dropout" => new Dropout(F(c["rate"]), DropoutBase.ParseSeed(c["seed"]), name),
            "SpatialDropout2D" => new SpatialDropout2D(F(c["rate"]), DropoutBase.ParseSeed(c["seed"]), name),
            "DepthwiseConv2D" => new DepthwiseConv2D(P(c["kernel_size"]), P(c["strides"]), Pad(c["padding"]), I(c["depth_multiplier"]),
                ActivationOps.Parse(c["activation"]), B(c["use_bias"]), name),
            "SeparableConv2D" => new SeparableConv2D(I(c["filters"]), P(c["kernel_size"]), P(c["strides"]), Pad(c["padding"]), I(c["depth_multiplier"]),
                ActivationOps.Parse(c["activation"]), B(c["use_bias"]), name),
            "RandomFlip" => new RandomFlip(RandomFlip.ParseMode(c["mode"]), RandomPreprocessingLayer.ParseSeed(c["seed"]), name),
            "RandomRotation" => new RandomRotation(RandomPreprocessingLayer.ParsePair(c["factor"]), Fill(c), Interp(c), F(c["fill_value"]),
                RandomPreprocessingLayer.ParseSeed(c["seed"]), name),
            "RandomZoom" => new RandomZoom(RandomPreprocessingLayer.ParsePair(c["height_factor"]),
                c["width_factor"] == "none" ? null : RandomPreprocessingLayer.ParsePair(c["width_factor"]), Fill(c), Interp(c), F(c["fill_value"]),
                RandomPreprocessingLayer.ParseSeed(c["seed"]), name),
            "RandomTranslation" => new RandomTranslation(RandomPreprocessingLayer.ParsePair(c["height_factor"]), RandomPreprocessingLayer.ParsePair(c["width_factor"]),
                Fill(c), Interp(c), F(c["fill_value"]), RandomPreprocessingLayer.ParseSeed(c["seed"]), name),
            "RandomContrast" => new RandomContrast(RandomPreprocessingLayer.ParsePair(c["factor"]), RandomContrast.ParseRange(c["value_range"]),
                RandomPreprocessingLayer.ParseSeed(c["seed"]), name),
            "RandomBrightness" => new RandomBrightness(RandomPreprocessingLayer.ParsePair(c["factor"]), RandomContrast.ParseRange(c["value_range"]),
                RandomPreprocessingLayer.ParseSeed(c["seed"]), name),
            "RandomCrop" => new RandomCrop(I(c["height"]), I(c["width"]), RandomPreprocessingLayer.ParseSeed(c["seed"]), name),
            _ => throw new ArgumentException($"unknown layer type '{type}'"),
        };
    }
}
