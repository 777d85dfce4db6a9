using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ConvNet.Kernels;

/// <summary>How a backward loop writes dx: added to what is there, or overwriting it (no clear pass needed).</summary>
internal interface IGradientStore { static abstract bool Adds { get; } }
/// <summary>dx += gradient.</summary>
internal struct Accumulate : IGradientStore { public static bool Adds => true; }
/// <summary>dx = gradient.</summary>
internal struct Assign : IGradientStore { public static bool Adds => false; }

/// <summary>
/// The one elementwise loop of every activation (<see cref="IActivationOp"/> operator structs): a <see cref="Vector{T}"/>
/// body and a scalar tail. Callers validated the lengths (all equal).
/// </summary>
internal static class Elementwise
{
    /// <summary>y[i] = op(x[i]) (y may be x).</summary>
    public static void Forward<TOp>(TOp op, ReadOnlySpan<float> x, Span<float> y) where TOp : struct, IActivationOp
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        int V = Vector<float>.Count, i = 0, n = x.Length;
        for (; i + V <= n; i += V) Vector.StoreUnsafe(op.Forward(Vector.LoadUnsafe(ref xr, (nuint)i)), ref yr, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref yr, i) = op.Forward(Unsafe.Add(ref xr, i));
    }

    /// <summary>dx[i] (+)= op'(x[i]) · dy[i], with y = op(x) (x may be y for ops that read only y).</summary>
    public static void Backward<TOp, TStore>(TOp op, ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
        where TOp : struct, IActivationOp where TStore : struct, IGradientStore
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref float gr = ref MemoryMarshal.GetReference(dy);
        ref float dr = ref MemoryMarshal.GetReference(dx);
        int V = Vector<float>.Count, i = 0, n = dy.Length;
        for (; i + V <= n; i += V)
        {
            var d = TStore.Adds ? Vector.LoadUnsafe(ref dr, (nuint)i) : Vector<float>.Zero;
            Vector.StoreUnsafe(op.AddGradient(Vector.LoadUnsafe(ref xr, (nuint)i), Vector.LoadUnsafe(ref yr, (nuint)i), Vector.LoadUnsafe(ref gr, (nuint)i), d), ref dr, (nuint)i);
        }
        for (; i < n; i++)
            Unsafe.Add(ref dr, i) = op.AddGradient(Unsafe.Add(ref xr, i), Unsafe.Add(ref yr, i), Unsafe.Add(ref gr, i), TStore.Adds ? Unsafe.Add(ref dr, i) : 0f);
    }
}
