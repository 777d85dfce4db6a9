namespace ConvNet.Data;

/// <summary>Channels produced by the image loader, like Keras' <c>color_mode</c>.</summary>
public enum ColorMode
{
    /// <summary>One channel. See <see cref="ImageLoadOptions.ColorMode"/> for the conversion used.</summary>
    Grayscale,

    /// <summary>Three channels (red, green, blue); gray images are replicated, alpha is dropped.</summary>
    Rgb,

    /// <summary>Four channels (red, green, blue, alpha); opaque images get alpha 255.</summary>
    Rgba,
}
