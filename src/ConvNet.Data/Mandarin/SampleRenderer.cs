namespace ConvNet.Data.Mandarin;

/// <summary>A 2-D point/vector in double precision used by the pen simulation.</summary>
internal readonly record struct P2(double X, double Y)
{
    public static P2 operator +(P2 a, P2 b) => new(a.X + b.X, a.Y + b.Y);
    public static P2 operator -(P2 a, P2 b) => new(a.X - b.X, a.Y - b.Y);
    public static P2 operator *(P2 a, double s) => new(a.X * s, a.Y * s);
    public double Length => Math.Sqrt(X * X + Y * Y);
    public P2 Normalized()
    {
        double l = Length;
        return l > 1e-12 ? new P2(X / l, Y / l) : new P2(1, 0);
    }
}

/// <summary>
/// Draws one handwriting-like sample of a character: transforms the stroke medians with the sample's random
/// variation, smooths them with centripetal Catmull-Rom splines, then stamps an anti-aliased pen of varying
/// width along the path into a float ink buffer, and finally composes ink on paper with noise.
/// </summary>
internal sealed class SampleRenderer
{
    private readonly StrokeCharacter _character;
    private readonly MandarinStyle _style;
    private readonly int _size;

    public SampleRenderer(StrokeCharacter character, MandarinStyle style, int size)
    {
        _character = character;
        _style = style;
        _size = size;
    }

    public float[] Render(ref SplitMix64 rng)
    {
        var st = _style;
        double v = st.Variation;
        int n = _size;

        // ---- per-sample parameters -------------------------------------------------------------
        double theta = rng.Symmetric(st.RotationDegrees * v) * Math.PI / 180.0;
        double scale = rng.Uniform(st.ScaleMin, st.ScaleMax);
        double aspect = Math.Exp(rng.Symmetric(st.Aspect * v));
        double shear = rng.Symmetric(st.Shear * v);
        var offset = new P2(rng.Symmetric(st.Offset * v), rng.Symmetric(st.Offset * v));
        double sx = scale * aspect, sy = scale / aspect;
        double cos = Math.Cos(theta), sin = Math.Sin(theta);
        // M = R · Shear · S
        double m00 = cos * sx, m01 = cos * shear * sy - sin * sy;
        double m10 = sin * sx, m11 = sin * shear * sy + cos * sy;

        var warp = new WarpField(ref rng, st.Warp * v);

        double penBase = rng.Uniform(st.PenWidthMin, st.PenWidthMax) * n; // diameter in pixels
        double inkSample = rng.Uniform(st.InkMin, st.InkMax);
        double inkTone = rng.Uniform(0, st.InkToneMax);
        double paper = rng.Uniform(st.PaperMin, st.PaperMax);
        double gradX = rng.Symmetric(st.PaperGradient), gradY = rng.Symmetric(st.PaperGradient);
        double noise = st.PixelNoise;

        var ink = new float[n * n];
        var strokeBuf = new float[n * n];
        bool missingUsed = false;
        var medians = _character.Medians;

        for (int si = 0; si < medians.Count; si++)
        {
            bool missing = !missingUsed && medians.Count > 1 && rng.Chance(st.MissingStrokeProbability);
            bool faint = rng.Chance(st.FaintStrokeProbability);
            double alpha = Math.Clamp(inkSample * (1.0 + rng.Gaussian() * st.StrokeInkJitter), 0.05, 1.0);
            if (faint)
            {
                alpha *= st.FaintStrokeFactor;
            }
            double widthFactor = Math.Clamp(1.0 + rng.Gaussian() * st.StrokeWidthJitter, 0.5, 1.6);

            var path = BuildStrokePath(medians[si], ref rng, v, scale);
            if (missing)
            {
                missingUsed = true;
                continue;
            }

            // dense arc lengths
            var arc = new double[path.Count];
            for (int i = 1; i < path.Count; i++)
            {
                arc[i] = arc[i - 1] + (path[i] - path[i - 1]).Length;
            }
            double total = arc[^1];

            // wobble: low-frequency displacement along the stroke
            double amp = st.Wobble * v;
            double lam1 = st.WobbleWavelength * rng.Uniform(1.0, 2.0);
            double lam2 = lam1 * rng.Uniform(1.8, 3.0);
            double px1 = rng.Uniform(0, 2 * Math.PI), py1 = rng.Uniform(0, 2 * Math.PI);
            double px2 = rng.Uniform(0, 2 * Math.PI), py2 = rng.Uniform(0, 2 * Math.PI);
            // pressure: width change along the stroke and pen landing / lifting
            double lamP = rng.Uniform(0.25, 0.7);
            double phP = rng.Uniform(0, 2 * Math.PI);
            double land = rng.Uniform(0.55, 1.0);
            double lift = rng.Uniform(0.0, 0.5);

            var pix = new P2[path.Count];
            var rad = new double[path.Count];
            for (int i = 0; i < path.Count; i++)
            {
                double s = arc[i];
                var p = path[i];
                p += new P2(
                    amp * (Math.Sin(2 * Math.PI * s / lam1 + px1) + 0.6 * Math.Sin(2 * Math.PI * s / lam2 + px2)),
                    amp * (Math.Sin(2 * Math.PI * s / lam1 + py1) + 0.6 * Math.Sin(2 * Math.PI * s / lam2 + py2)));
                p = warp.Apply(p);
                double qx = m00 * p.X + m01 * p.Y + offset.X;
                double qy = m10 * p.X + m11 * p.Y + offset.Y;
                pix[i] = new P2((0.5 + qx) * n, (0.5 + qy) * n);

                double w = penBase * widthFactor * (1.0 + st.PenPressure * Math.Sin(2 * Math.PI * s / lamP + phP));
                double startT = SmoothStep(0, 0.06, s);
                double endT = SmoothStep(total - 0.07, total, s);
                w *= (land + (1 - land) * startT) * (1 - lift * endT);
                rad[i] = Math.Max(0.35, 0.5 * w);
            }

            var box = StampPath(strokeBuf, n, pix, rad);
            if (box.X0 > box.X1)
            {
                continue;
            }
            float a = (float)alpha;
            for (int y = box.Y0; y <= box.Y1; y++)
            {
                int row = y * n;
                for (int x = box.X0; x <= box.X1; x++)
                {
                    float c = strokeBuf[row + x];
                    if (c > 0f)
                    {
                        ink[row + x] = 1f - (1f - ink[row + x]) * (1f - a * c);
                        strokeBuf[row + x] = 0f;
                    }
                }
            }
        }

        // ---- compose on paper --------------------------------------------------------------------
        var result = new float[n * n];
        for (int y = 0; y < n; y++)
        {
            double fy = (y + 0.5) / n - 0.5;
            for (int x = 0; x < n; x++)
            {
                double fx = (x + 0.5) / n - 0.5;
                double pap = paper + gradX * fx + gradY * fy;
                double i = ink[y * n + x];
                double val = pap - (pap - inkTone) * i + noise * rng.Gaussian();
                result[y * n + x] = (float)Math.Clamp(val, 0.0, 1.0);
            }
        }
        return result;
    }

    /// <summary>
    /// Turns one stroke median into a dense, smoothed path in normalised box coordinates (centre 0, side 1),
    /// with stroke shift, end-point and interior jitter and lengthened / shortened ends.
    /// </summary>
    private List<P2> BuildStrokePath(IReadOnlyList<System.Numerics.Vector2> median, ref SplitMix64 rng, double v, double scale)
    {
        var st = _style;
        var pts = new List<P2>(median.Count + 2);
        foreach (var m in median)
        {
            var p = new P2((m.X - 512.0) / StrokeCharacter.BoxSize, (m.Y - 512.0) / StrokeCharacter.BoxSize);
            if (pts.Count == 0 || (p - pts[^1]).Length > 0.012)
            {
                pts.Add(p);
            }
        }
        if (median.Count > 1)
        {
            var last = new P2((median[^1].X - 512.0) / StrokeCharacter.BoxSize, (median[^1].Y - 512.0) / StrokeCharacter.BoxSize);
            if ((pts[^1] - last).Length > 1e-9)
            {
                if (pts.Count > 1)
                {
                    pts[^1] = last;
                }
                else
                {
                    pts.Add(last);
                }
            }
        }
        if (pts.Count == 1)
        {
            double ang = rng.Uniform(0, 2 * Math.PI);
            pts.Add(pts[0] + new P2(Math.Cos(ang), Math.Sin(ang)) * 0.015);
        }

        var shift = new P2(rng.Gaussian(), rng.Gaussian()) * (st.StrokeShift * v);
        double endSd = st.EndpointJitter * v;
        double midSd = endSd * st.InteriorJitterFactor;
        for (int i = 0; i < pts.Count; i++)
        {
            double sd = i == 0 || i == pts.Count - 1 ? endSd : midSd;
            pts[i] = pts[i] + shift + new P2(rng.Gaussian(), rng.Gaussian()) * sd;
        }

        double length = 0;
        for (int i = 1; i < pts.Count; i++)
        {
            length += (pts[i] - pts[i - 1]).Length;
        }
        double ext0 = rng.Uniform(st.EndExtendMin, st.EndExtendMax) * v * length;
        double ext1 = rng.Uniform(st.EndExtendMin, st.EndExtendMax) * v * length;
        AdjustStart(pts, ext0);
        pts.Reverse();
        AdjustStart(pts, ext1);
        pts.Reverse();

        // centripetal Catmull-Rom, sampled about every 0.6 px
        var dense = new List<P2>(64);
        double pxPerUnit = _size * scale;
        for (int i = 0; i < pts.Count - 1; i++)
        {
            var p0 = i > 0 ? pts[i - 1] : pts[0] * 2 - pts[1];
            var p1 = pts[i];
            var p2 = pts[i + 1];
            var p3 = i + 2 < pts.Count ? pts[i + 2] : pts[i + 1] * 2 - pts[i];
            int steps = Math.Max(2, (int)Math.Ceiling((p2 - p1).Length * pxPerUnit / 0.6));
            for (int j = i == 0 ? 0 : 1; j <= steps; j++)
            {
                dense.Add(CatmullRom(p0, p1, p2, p3, (double)j / steps));
            }
        }
        return dense;
    }

    /// <summary>Moves the first point outward along the first segment (amount &gt; 0) or trims the path (amount &lt; 0).</summary>
    private static void AdjustStart(List<P2> pts, double amount)
    {
        if (amount > 0)
        {
            var dir = (pts[0] - pts[1]).Normalized();
            pts[0] = pts[0] + dir * amount;
            return;
        }
        double remaining = -amount;
        while (remaining > 0)
        {
            var d = (pts[1] - pts[0]).Length;
            if (pts.Count > 2 && d <= remaining)
            {
                remaining -= d;
                pts.RemoveAt(0);
                continue;
            }
            double cut = Math.Min(remaining, 0.8 * d);
            if (d > 1e-12)
            {
                pts[0] = pts[0] + (pts[1] - pts[0]) * (cut / d);
            }
            break;
        }
    }

    private static P2 CatmullRom(P2 p0, P2 p1, P2 p2, P2 p3, double u)
    {
        static double Knot(double t, P2 a, P2 b) => t + Math.Max(Math.Sqrt((b - a).Length), 1e-6);
        double t0 = 0;
        double t1 = Knot(t0, p0, p1);
        double t2 = Knot(t1, p1, p2);
        double t3 = Knot(t2, p2, p3);
        double t = t1 + (t2 - t1) * u;
        var a1 = p0 * ((t1 - t) / (t1 - t0)) + p1 * ((t - t0) / (t1 - t0));
        var a2 = p1 * ((t2 - t) / (t2 - t1)) + p2 * ((t - t1) / (t2 - t1));
        var a3 = p2 * ((t3 - t) / (t3 - t2)) + p3 * ((t - t2) / (t3 - t2));
        var b1 = a1 * ((t2 - t) / (t2 - t0)) + a2 * ((t - t0) / (t2 - t0));
        var b2 = a2 * ((t3 - t) / (t3 - t1)) + a3 * ((t - t1) / (t3 - t1));
        return b1 * ((t2 - t) / (t2 - t1)) + b2 * ((t - t1) / (t2 - t1));
    }

    private static double SmoothStep(double e0, double e1, double x)
    {
        if (e1 <= e0)
        {
            return x >= e1 ? 1 : 0;
        }
        double t = Math.Clamp((x - e0) / (e1 - e0), 0, 1);
        return t * t * (3 - 2 * t);
    }

    private readonly record struct Box(int X0, int Y0, int X1, int Y1);

    /// <summary>Anti-aliased capsule coverage along a pixel-space path with per-point radius (max-combined).</summary>
    private static Box StampPath(float[] buf, int n, P2[] pts, double[] rad)
    {
        int bx0 = n, by0 = n, bx1 = -1, by1 = -1;
        for (int i = 0; i < pts.Length - 1 || i == 0; i++)
        {
            var a = pts[i];
            var b = pts.Length > 1 ? pts[i + 1] : pts[i];
            double ra = rad[i], rb = pts.Length > 1 ? rad[i + 1] : rad[i];
            double rmax = Math.Max(ra, rb) + 1.0;
            int x0 = Math.Max(0, (int)Math.Floor(Math.Min(a.X, b.X) - rmax));
            int x1 = Math.Min(n - 1, (int)Math.Ceiling(Math.Max(a.X, b.X) + rmax));
            int y0 = Math.Max(0, (int)Math.Floor(Math.Min(a.Y, b.Y) - rmax));
            int y1 = Math.Min(n - 1, (int)Math.Ceiling(Math.Max(a.Y, b.Y) + rmax));
            if (x0 > x1 || y0 > y1)
            {
                continue;
            }
            var ab = b - a;
            double len2 = ab.X * ab.X + ab.Y * ab.Y;
            for (int y = y0; y <= y1; y++)
            {
                double cy = y + 0.5;
                for (int x = x0; x <= x1; x++)
                {
                    double cx = x + 0.5;
                    double t = len2 > 1e-12 ? Math.Clamp(((cx - a.X) * ab.X + (cy - a.Y) * ab.Y) / len2, 0, 1) : 0;
                    double dx = cx - (a.X + t * ab.X), dy = cy - (a.Y + t * ab.Y);
                    double d = Math.Sqrt(dx * dx + dy * dy);
                    double r = ra + t * (rb - ra);
                    double cov = r + 0.5 - d;
                    if (cov <= 0)
                    {
                        continue;
                    }
                    float c = cov >= 1 ? 1f : (float)cov;
                    int idx = y * n + x;
                    if (c > buf[idx])
                    {
                        buf[idx] = c;
                    }
                }
            }
            bx0 = Math.Min(bx0, x0); by0 = Math.Min(by0, y0);
            bx1 = Math.Max(bx1, x1); by1 = Math.Max(by1, y1);
        }
        return new Box(bx0, by0, bx1, by1);
    }

    /// <summary>A smooth displacement field over the whole character (two plane waves per axis).</summary>
    private readonly struct WarpField
    {
        private readonly double _amp;
        private readonly double _ax1, _ay1, _c1, _ax2, _ay2, _c2, _bx1, _by1, _d1, _bx2, _by2, _d2;

        public WarpField(ref SplitMix64 rng, double amplitude)
        {
            _amp = amplitude;
            (_ax1, _ay1) = Wave(ref rng, 0.6, 1.3); _c1 = rng.Uniform(0, 2 * Math.PI);
            (_ax2, _ay2) = Wave(ref rng, 1.3, 2.2); _c2 = rng.Uniform(0, 2 * Math.PI);
            (_bx1, _by1) = Wave(ref rng, 0.6, 1.3); _d1 = rng.Uniform(0, 2 * Math.PI);
            (_bx2, _by2) = Wave(ref rng, 1.3, 2.2); _d2 = rng.Uniform(0, 2 * Math.PI);
        }

        private static (double, double) Wave(ref SplitMix64 rng, double fmin, double fmax)
        {
            double f = 2 * Math.PI * rng.Uniform(fmin, fmax);
            double dir = rng.Uniform(0, 2 * Math.PI);
            return (f * Math.Cos(dir), f * Math.Sin(dir));
        }

        public P2 Apply(P2 p)
        {
            double dx = Math.Sin(_ax1 * p.X + _ay1 * p.Y + _c1) + 0.5 * Math.Sin(_ax2 * p.X + _ay2 * p.Y + _c2);
            double dy = Math.Sin(_bx1 * p.X + _by1 * p.Y + _d1) + 0.5 * Math.Sin(_bx2 * p.X + _by2 * p.Y + _d2);
            return new P2(p.X + _amp * dx, p.Y + _amp * dy);
        }
    }
}
