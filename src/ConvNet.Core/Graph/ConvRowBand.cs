using ConvNet.Kernels;

namespace ConvNet;

/// <summary>
/// Output rows [r0, r1) of one image of a convolution as a geometry of its own: OH = r1 − r0, the input starting at the first
/// row the band reads (or at row 0 with the remaining top padding), H shortened to match. The kernels clip windows against
/// H and PadTop, so a band gives exactly the rows of the whole convolution (Same padding at band edges included).
/// </summary>
internal static class ConvRowBand
{
    /// <summary>The band's geometry (N = 1) and the offset of its first input element within the image.</summary>
    internal static ConvGeometry Of(in ConvGeometry g, int r0, int r1, out int xOffset)
    {
        int ih0 = r0 * g.SH - g.PadTop;
        if (ih0 <= 0)
        {
            xOffset = 0;
            return g with { N = 1, PadTop = -ih0, OH = r1 - r0 };
        }
        int skip = Math.Min(ih0, g.H - 1);   // a band never starts below the input (guard for odd geometries)
        xOffset = skip * g.W * g.C;
        return g with { N = 1, H = g.H - skip, PadTop = skip - ih0, OH = r1 - r0 };
    }
}
