namespace ConvNet;

public sealed partial class Sequential
{
    private (int First, int Count, string Name)[]? _plan;
    private bool[] _fusedWithNext = [];
    private bool _enableFusion = true;

    /// <summary>
    /// Runs a <see cref="Conv2D"/> (ReLU or linear) immediately followed by a supported <see cref="MaxPooling2D"/> as one
    /// fused kernel in <see cref="Call"/> and training (default true). The layers, summary, parameters and model files are
    /// the same either way; only the execution differs. Forward results are bit-identical; gradients are bit-identical
    /// except where the sparse backward of <see cref="Kernels.ConvPoolBackward"/> is used (CPUs without AVX-512, convolutions
    /// with at least 24 input channels), which sums in another order and agrees up to float rounding.
    /// </summary>
    internal bool EnableFusion
    {
        get => _enableFusion;
        set { _enableFusion = value; _plan = null; }
    }

    /// <summary>The execution steps: (index of the first layer, number of layers, display name); fused pairs count 2.</summary>
    internal (int First, int Count, string Name)[] Plan()
    {
        if (_plan is not null) return _plan;
        var steps = new List<(int, int, string)>();
        _fusedWithNext = new bool[_layers.Count];
        for (int i = 0; i < _layers.Count; i++)
        {
            if (_enableFusion && i + 1 < _layers.Count && _layers[i] is Conv2D conv && _layers[i + 1] is MaxPooling2D pool && conv.CanFuseWith(pool))
            {
                _fusedWithNext[i] = true;
                steps.Add((i, 2, $"{conv.Name}+{pool.Name} (fused)"));
                i++;
            }
            else steps.Add((i, 1, _layers[i].Name));
        }
        return _plan = [.. steps];
    }

    /// <summary>Forward of the step starting at layer <paramref name="first"/> (a layer, or a fused conv+pool pair).</summary>
    internal Tensor ForwardStep(int first, Tensor h, bool training)
    {
        Plan();
        return _fusedWithNext[first]
            ? ((Conv2D)_layers[first]).ForwardFused(h, (MaxPooling2D)_layers[first + 1], training)
            : _layers[first].Forward(h, training);
    }

    /// <summary>Backward of the step starting at layer <paramref name="first"/>.</summary>
    internal Tensor BackwardStep(int first, Tensor dy)
    {
        Plan();
        return _fusedWithNext[first] ? ((Conv2D)_layers[first]).BackwardFused(dy) : _layers[first].Backward(dy);
    }
}
