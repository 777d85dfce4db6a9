namespace ConvNet.Data;

/// <summary>Image resampling that reproduces TensorFlow's results.</summary>
public static class ImageResize
{
    /// <summary>
    /// Bilinear resize of one HWC float image, exactly like <c>tf.image.resize(method="bilinear", antialias=False)</c>
    /// (TensorFlow's <c>ResizeBilinear</c> with <c>half_pixel_centers=True</c>), all in float32:
    /// for output row y, <c>scale = inH / outH</c>, <c>in = (y + 0.5)·scale − 0.5</c>,
    /// <c>top = max(floor(in), 0)</c>, <c>bottom = min(ceil(in), inH − 1)</c>, <c>lerp = in − floor(in)</c>
    /// (columns likewise), and the value is <c>t + (b − t)·ly</c> with <c>t = tl + (tr − tl)·lx</c>,
    /// <c>b = bl + (br − bl)·lx</c>. No antialiasing when shrinking. Same size copies the input.
    /// </summary>
    /// <param name="source">Input pixels, row-major (inH, inW, channels).</param>
    /// <param name="inHeight">Input height.</param>
    /// <param name="inWidth">Input width.</param>
    /// <param name="channels">Channels per pixel.</param>
    /// <param name="destination">Output pixels, (outH, outW, channels).</param>
    /// <param name="outHeight">Output height.</param>
    /// <param name="outWidth">Output width.</param>
    /// <exception cref="ArgumentException">A size is not positive or a span has the wrong length.</exception>
    public static void Bilinear(ReadOnlySpan<float> source, int inHeight, int inWidth, int channels,
                                Span<float> destination, int outHeight, int outWidth)
    {
        if (inHeight <= 0 || inWidth <= 0 || channels <= 0 || outHeight <= 0 || outWidth <= 0)
            throw new ArgumentException($"Sizes must be positive: input {inHeight}×{inWidth}×{channels}, output {outHeight}×{outWidth}.");
        if (source.Length != (long)inHeight * inWidth * channels)
            throw new ArgumentException($"The source has {source.Length} values, expected {inHeight}×{inWidth}×{channels} = {(long)inHeight * inWidth * channels}.", nameof(source));
        if (destination.Length != (long)outHeight * outWidth * channels)
            throw new ArgumentException($"The destination has {destination.Length} values, expected {outHeight}×{outWidth}×{channels} = {(long)outHeight * outWidth * channels}.", nameof(destination));

        if (inHeight == outHeight && inWidth == outWidth)
        {
            source.CopyTo(destination);
            return;
        }

        var ys = Weights(outHeight, inHeight);
        var xs = Weights(outWidth, inWidth);
        int inRow = inWidth * channels;
        for (int y = 0; y < outHeight; y++)
        {
            var (top, bottom, ly) = ys[y];
            var topRow = source.Slice(top * inRow, inRow);
            var bottomRow = source.Slice(bottom * inRow, inRow);
            var outRow = destination.Slice(y * outWidth * channels, outWidth * channels);
            for (int x = 0; x < outWidth; x++)
            {
                var (left, right, lx) = xs[x];
                int l = left * channels, r = right * channels, o = x * channels;
                for (int c = 0; c < channels; c++)
                {
                    float tl = topRow[l + c], tr = topRow[r + c];
                    float bl = bottomRow[l + c], br = bottomRow[r + c];
                    float t = tl + (tr - tl) * lx;
                    float b = bl + (br - bl) * lx;
                    outRow[o + c] = t + (b - t) * ly;
                }
            }
        }
    }

    /// <summary>Writes source row <c>y</c> (inWidth × channels floats) into the span.</summary>
    internal delegate void RowReader(int y, Span<float> row);

    /// <summary>
    /// <see cref="Bilinear"/> with the source read one row at a time: each output row needs source rows top and
    /// bottom, which are read once (rows only move down) and kept in two row buffers. Bit-identical to
    /// <see cref="Bilinear"/> on the full image, with memory for two rows instead of the whole float image.
    /// </summary>
    internal static void BilinearFromRows(RowReader read, int inHeight, int inWidth, int channels,
                                          Span<float> destination, int outHeight, int outWidth)
    {
        if (inHeight <= 0 || inWidth <= 0 || channels <= 0 || outHeight <= 0 || outWidth <= 0)
            throw new ArgumentException($"Sizes must be positive: input {inHeight}×{inWidth}×{channels}, output {outHeight}×{outWidth}.");
        if (destination.Length != (long)outHeight * outWidth * channels)
            throw new ArgumentException($"The destination has {destination.Length} values, expected {outHeight}×{outWidth}×{channels} = {(long)outHeight * outWidth * channels}.", nameof(destination));
        int inRow = inWidth * channels;
        if (inHeight == outHeight && inWidth == outWidth)
        {
            for (int y = 0; y < inHeight; y++) read(y, destination.Slice(y * inRow, inRow));
            return;
        }

        var ys = Weights(outHeight, inHeight);
        var xs = Weights(outWidth, inWidth);
        var rowA = new float[inRow];
        var rowB = new float[inRow];
        int indexA = -1, indexB = -1;
        float[] Row(int index)
        {
            if (index == indexA) return rowA;
            if (index == indexB) return rowB;
            // replace the row with the smaller index: later output rows never need it again
            if (indexA <= indexB) { read(index, rowA); indexA = index; return rowA; }
            read(index, rowB); indexB = index; return rowB;
        }
        for (int y = 0; y < outHeight; y++)
        {
            var (top, bottom, ly) = ys[y];
            float[] topArray = Row(top);
            float[] bottomArray = Row(bottom);
            ReadOnlySpan<float> topRow = topArray, bottomRow = bottomArray;
            var outRow = destination.Slice(y * outWidth * channels, outWidth * channels);
            for (int x = 0; x < outWidth; x++)
            {
                var (left, right, lx) = xs[x];
                int l = left * channels, r = right * channels, o = x * channels;
                for (int c = 0; c < channels; c++)
                {
                    float tl = topRow[l + c], tr = topRow[r + c];
                    float bl = bottomRow[l + c], br = bottomRow[r + c];
                    float t = tl + (tr - tl) * lx;
                    float b = bl + (br - bl) * lx;
                    outRow[o + c] = t + (b - t) * ly;
                }
            }
        }
    }

    /// <summary>TensorFlow's <c>compute_interpolation_weights</c> with the half-pixel scaler, in float32.</summary>
    private static (int Lower, int Upper, float Lerp)[] Weights(int outSize, int inSize)
    {
        float scale = inSize / (float)outSize;
        var w = new (int, int, float)[outSize];
        for (int i = 0; i < outSize; i++)
        {
            float input = (i + 0.5f) * scale - 0.5f;
            float floor = MathF.Floor(input);
            int lower = Math.Max((int)floor, 0);
            int upper = Math.Min((int)MathF.Ceiling(input), inSize - 1);
            w[i] = (lower, upper, input - floor);
        }
        return w;
    }
}
