using System.Runtime.Intrinsics.X86;

namespace ConvNet.Kernels;

/// <summary>The instruction sets the hand-written kernels come in; each needs everything the one before needs.</summary>
internal enum KernelBackend
{
    /// <summary><see cref="System.Numerics.Vector{T}"/> code (<see cref="ConvVector"/>, <see cref="GemmPortable"/>): runs anywhere.</summary>
    Portable,
    /// <summary>AVX2 + FMA register tiles (<see cref="ConvAvx2"/>, <see cref="GemmAvx2"/>).</summary>
    Avx2,
    /// <summary>AVX-512F register tiles for convolution (<see cref="ConvAvx512"/>); GEMM stays on AVX2.</summary>
    Avx512,
}

/// <summary>
/// The entry points of one <see cref="KernelBackend"/> (the XNNPACK "config" pattern). <see cref="Current"/> is chosen
/// once, at start-up, from the CPU: the widest backend it runs, or <c>CONVNET_KERNELS=portable|avx2|avx512</c> if that
/// names a runnable one. The public verbs (<see cref="Conv"/>, <see cref="Gemm"/>, <see cref="ConvPool"/>) call it;
/// their internal overloads take a backend, so tests run every <see cref="Runnable"/> backend against the naive twins.
/// Entries take raw pointers; callers validated every length. Conv: x (N,H,W,C), w (KH,KW,C,K), y (N,OH,OW,K);
/// bias/dbias null = none. GEMM: row-major, C += op(A)·op(B).
/// </summary>
internal sealed unsafe class KernelTable
{
    public KernelBackend Backend { get; }

    /// <summary>y = conv(x, w) + bias.</summary>
    public readonly delegate*<in ConvGeometry, float*, float*, float*, float*, void> ConvForward;
    /// <summary>dx += Σ dy·w (the transposed convolution).</summary>
    public readonly delegate*<in ConvGeometry, float*, float*, float*, void> ConvBackwardData;
    /// <summary>dw += Σ x·dy; dbias += Σ dy.</summary>
    public readonly delegate*<in ConvGeometry, float*, float*, float*, float*, void> ConvBackwardFilter;
    /// <summary>C[M×N] += A[M×K]·B[K×N].</summary>
    public readonly delegate*<int, int, int, float*, float*, float*, void> GemmNN;
    /// <summary>C[M×N] += A[M×K]·B[N×K]ᵀ.</summary>
    public readonly delegate*<int, int, int, float*, float*, float*, void> GemmNT;
    /// <summary>C[M×N] += A[K×M]ᵀ·B[K×N], rows of A lda apart.</summary>
    public readonly delegate*<int, int, int, float*, int, float*, float*, void> GemmTN;

    private KernelTable(KernelBackend backend)
    {
        Backend = backend;
        switch (backend)
        {
            case KernelBackend.Avx512:
                ConvForward = &ConvDriver<ConvAvx512>.Forward;
                ConvBackwardData = &ConvDriver<ConvAvx512>.BackwardData;
                ConvBackwardFilter = &ConvDriver<ConvAvx512>.BackwardFilter;
                GemmNN = &GemmAvx2.NN; GemmNT = &GemmAvx2.NT; GemmTN = &GemmAvx2.TN;
                break;
            case KernelBackend.Avx2:
                ConvForward = &ConvDriver<ConvAvx2>.Forward;
                ConvBackwardData = &ConvDriver<ConvAvx2>.BackwardData;
                ConvBackwardFilter = &ConvDriver<ConvAvx2>.BackwardFilter;
                GemmNN = &GemmAvx2.NN; GemmNT = &GemmAvx2.NT; GemmTN = &GemmAvx2.TN;
                break;
            default:
                ConvForward = &ConvDriver<ConvVector>.Forward;
                ConvBackwardData = &ConvDriver<ConvVector>.BackwardData;
                ConvBackwardFilter = &ConvDriver<ConvVector>.BackwardFilter;
                GemmNN = &GemmPortable.NN; GemmNT = &GemmPortable.NT; GemmTN = &GemmPortable.TN;
                break;
        }
    }

    private static readonly KernelTable[] Tables = [new(KernelBackend.Portable), new(KernelBackend.Avx2), new(KernelBackend.Avx512)];

    /// <summary>Every backend this CPU runs, narrowest first (Portable always).</summary>
    public static readonly KernelBackend[] Runnable = Enum.GetValues<KernelBackend>().Where(IsRunnable).ToArray();

    /// <summary>The table the public verbs use, chosen once.</summary>
    public static readonly KernelTable Current = Tables[(int)Choose(Environment.GetEnvironmentVariable("CONVNET_KERNELS"))];

    /// <summary>True if this CPU has the instructions <paramref name="backend"/> uses.</summary>
    public static bool IsRunnable(KernelBackend backend) => backend switch
    {
        KernelBackend.Avx512 => Avx512F.IsSupported && Avx2.IsSupported && Fma.IsSupported,
        KernelBackend.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        _ => true,
    };

    /// <summary>The table of <paramref name="backend"/>; throws if this CPU cannot run it.</summary>
    public static KernelTable For(KernelBackend backend)
    {
        if (!IsRunnable(backend))
            throw new PlatformNotSupportedException($"Kernel backend {backend} needs instructions this CPU (or DOTNET_Enable* setting) does not have; runnable: {string.Join(", ", Runnable)}.");
        return Tables[(int)backend];
    }

    /// <summary>The widest runnable backend, or the one <paramref name="setting"/> names if it is runnable.</summary>
    internal static KernelBackend Choose(string? setting)
    {
        if (Enum.TryParse(setting, ignoreCase: true, out KernelBackend asked) && Enum.IsDefined(asked) && IsRunnable(asked)) return asked;
        return Runnable[^1];
    }
}
