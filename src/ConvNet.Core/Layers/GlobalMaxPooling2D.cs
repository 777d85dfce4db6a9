using ConvNet.Kernels;

namespace ConvNet;

/// <summary>Maximum over height and width: (N, H, W, C) → (N, C), like Keras <c>GlobalMaxPooling2D</c>. The gradient goes to the
/// first maximal pixel (Keras' TensorFlow backend splits it among tied pixels; ties do not occur with continuous inputs).</summary>
public sealed class GlobalMaxPooling2D : Layer
{
    private Tensor? _x, _y, _dy, _dx;
    private int[] _argmax = [];
    private readonly Action<int, int, int> _forwardPart, _backwardPart;

    /// <summary>Creates the layer.</summary>
    public GlobalMaxPooling2D(string? name = null) : base(name)
    {
        _forwardPart = (p, s, cnt) =>
        {
            int hw = InputShape![0] * InputShape[1], c = InputShape[2];
            GlobalPool.GlobalMaxPoolForward(cnt, hw, c, _x!.Span.Slice(s * hw * c, cnt * hw * c), _y!.Span.Slice(s * c, cnt * c), _argmax.AsSpan(s * c, cnt * c));
        };
        _backwardPart = (p, s, cnt) =>
        {
            int hw = InputShape![0] * InputShape[1], c = InputShape[2];
            var dxc = _dx!.Span.Slice(s * hw * c, cnt * hw * c);
            dxc.Clear();
            GlobalPool.GlobalMaxPoolBackward(cnt, hw, c, _dy!.Span.Slice(s * c, cnt * c), _argmax.AsSpan(s * c, cnt * c), dxc);
        };
    }

    /// <inheritdoc/>
    public override string TypeName => "GlobalMaxPooling2D";

    /// <inheritdoc/>
    public override int[] ComputeOutputShape(IReadOnlyList<int> s)
    {
        if (s.Count != 3) throw Error("(None, height, width, channels)", Fmt(s, batch: true), $"GlobalMaxPooling2D needs rank-4 NHWC input, got rank {s.Count + 1}");
        return [s[2]];
    }

    /// <inheritdoc/>
    protected override Tensor ForwardCore(Tensor x, bool training)
    {
        int n = x.Shape[0];
        _x = x;
        _y = Workspace(ref _y, n, OutputShape!);
        if (_argmax.Length != _y.Length) _argmax = new int[_y.Length];
        ForBatch(n, _forwardPart);
        return _y;
    }

    /// <inheritdoc/>
    protected override Tensor BackwardCore(Tensor dy)
    {
        int n = dy.Shape[0];
        _dy = dy;
        _dx = Workspace(ref _dx, n, InputShape!);
        ForBatch(n, _backwardPart);
        return _dx;
    }

    internal override void WriteConfig(IDictionary<string, string> c) { }
}
