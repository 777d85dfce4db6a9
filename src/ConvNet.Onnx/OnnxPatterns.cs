using ConvNet.Onnx.Protobuf;
using Google.Protobuf;

namespace ConvNet.Onnx;

/// <summary>
/// Recognises activations that opsets before 20 spell with several nodes and replaces each with one node of domain
/// <see cref="OnnxGraphConverter.FusedDomain"/>:
/// <list type="bullet">
/// <item>SiLU: <c>Mul(x, Sigmoid(x))</c>;</item>
/// <item>GELU: <c>0.5·x·(1 + Erf(x/√2))</c> and <c>0.5·x·(1 + Tanh(√(2/π)·(x + 0.044715·x³)))</c>, with the 0.5 applied to x
/// (ConvNet's and Keras' export) or to the product (PyTorch's export).</item>
/// </list>
/// A pattern is replaced only when its inner values are used by nothing else.
/// </summary>
internal static class OnnxPatterns
{
    public static List<NodeProto> Fuse(IReadOnlyList<NodeProto> nodes, IReadOnlyDictionary<string, TensorProto> consts, string graphOutput)
    {
        var producer = new Dictionary<string, NodeProto>();
        var uses = new Dictionary<string, int> { [graphOutput] = 1 };
        foreach (var n in nodes)
        {
            foreach (var o in n.Output) producer[o] = n;
            foreach (var i in n.Input) uses[i] = uses.GetValueOrDefault(i) + 1;
        }
        var removed = new HashSet<NodeProto>();
        var replacement = new Dictionary<NodeProto, NodeProto>();

        NodeProto? Prod(string name, string op) => producer.TryGetValue(name, out var n) && n.OpType == op && n.Domain is "" or "ai.onnx" && !removed.Contains(n) ? n : null;
        bool Scalar(string name, float value) =>
            consts.TryGetValue(name, out var t) && t.DataType == (int)TensorProto.Types.DataType.Float
            && (t.FloatData.Count == 1 ? t.FloatData[0] : t.RawData.Length == 4 ? BitConverter.ToSingle(t.RawData.Span) : float.NaN) is var v
            && Math.Abs(v - value) <= 1e-4f * Math.Abs(value);
        // (a, b) of a binary node in either order, with the constant second when there is one.
        (string A, string B) Args(NodeProto n) => consts.ContainsKey(n.Input[0]) ? (n.Input[1], n.Input[0]) : (n.Input[0], n.Input[1]);

        // 1 + Erf(x/√2) or 1 + Tanh(√(2/π)(x + 0.044715x³)); returns x and the nodes, or null.
        (string X, List<NodeProto> Nodes, bool Tanh)? OnePlus(string name)
        {
            if (Prod(name, "Add") is not { Input.Count: 2 } add) return null;
            var (inner, one) = Args(add);
            if (!Scalar(one, 1f)) return null;
            if (Prod(inner, "Erf") is { } erf)
            {
                if (Prod(erf.Input[0], "Div") is { Input.Count: 2 } div && Scalar(div.Input[1], MathF.Sqrt(2f))) return (div.Input[0], [add, erf, div], false);
                if (Prod(erf.Input[0], "Mul") is { Input.Count: 2 } mul && Args(mul) is var (xm, c) && Scalar(c, 1f / MathF.Sqrt(2f))) return (xm, [add, erf, mul], false);
                return null;
            }
            if (Prod(inner, "Tanh") is not { } tanh || Prod(tanh.Input[0], "Mul") is not { Input.Count: 2 } scaled) return null;
            var (polyName, k) = Args(scaled);
            if (!Scalar(k, MathF.Sqrt(2f / MathF.PI)) || Prod(polyName, "Add") is not { Input.Count: 2 } poly) return null;
            foreach (var (x, cubicTerm) in new[] { (poly.Input[0], poly.Input[1]), (poly.Input[1], poly.Input[0]) })
            {
                if (Prod(cubicTerm, "Mul") is not { Input.Count: 2 } cx3) continue;
                var (x3Name, c) = Args(cx3);
                if (!Scalar(c, 0.044715f)) continue;
                if (Prod(x3Name, "Pow") is { Input.Count: 2 } pow && pow.Input[0] == x && Scalar(pow.Input[1], 3f))
                    return (x, [add, tanh, scaled, poly, cx3, pow], true);
                if (Prod(x3Name, "Mul") is { Input.Count: 2 } x3 && Prod(x3.Input[0] == x ? x3.Input[1] : x3.Input[0], "Mul") is { Input.Count: 2 } x2
                    && (x3.Input[0] == x || x3.Input[1] == x) && x2.Input[0] == x && x2.Input[1] == x)
                    return (x, [add, tanh, scaled, poly, cx3, x3, x2], true);
            }
            return null;
        }

        foreach (var n in nodes)
        {
            if (n.OpType != "Mul" || n.Input.Count != 2 || n.Output.Count != 1 || n.Domain is not ("" or "ai.onnx") || removed.Contains(n)) continue;
            string? x = null;
            List<NodeProto>? inner = null;
            string op = "Gelu";
            bool tanh = false;
            // SiLU: x · Sigmoid(x)
            for (int i = 0; i < 2 && x is null; i++)
                if (Prod(n.Input[i], "Sigmoid") is { } sig && sig.Input[0] == n.Input[1 - i]) { x = n.Input[1 - i]; inner = [sig]; op = "Silu"; }
            // GELU, 0.5 on x: Mul(Mul(x, 0.5), 1 + …(x))
            for (int i = 0; i < 2 && x is null; i++)
                if (OnePlus(n.Input[1 - i]) is var (gx, gn, gt) && Prod(n.Input[i], "Mul") is { Input.Count: 2 } half && Args(half) is var (hx, h) && hx == gx && Scalar(h, 0.5f))
                { x = gx; inner = [.. gn, half]; tanh = gt; }
            // GELU, 0.5 on the product: Mul(Mul(x, 1 + …(x)), 0.5)
            if (x is null && Args(n) is var (prodName, c) && Scalar(c, 0.5f) && Prod(prodName, "Mul") is { Input.Count: 2 } prod)
                for (int i = 0; i < 2 && x is null; i++)
                    if (OnePlus(prod.Input[1 - i]) is var (gx, gn, gt) && prod.Input[i] == gx) { x = gx; inner = [.. gn, prod]; tanh = gt; }
            if (x is null || inner is null) continue;
            // Every inner value must feed only the pattern.
            var set = inner.Append(n).ToHashSet();
            if (inner.Any(m => m.Output.Any(o => uses.GetValueOrDefault(o) != nodes.Count(k => set.Contains(k) && k.Input.Contains(o)) || o == graphOutput))) continue;
            var fused = new NodeProto { OpType = op, Domain = OnnxGraphConverter.FusedDomain, Name = n.Name.EndsWith("/Mul", StringComparison.Ordinal) ? n.Name[..^3] + op : n.Name.Length > 0 ? n.Name : n.Output[0] };
            fused.Input.Add(x);
            fused.Output.Add(n.Output[0]);
            if (op == "Gelu")
                fused.Attribute.Add(new AttributeProto { Name = "approximate", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(tanh ? "tanh" : "none") });
            foreach (var m in inner) removed.Add(m);
            replacement[n] = fused;
        }
        return nodes.Where(n => !removed.Contains(n)).Select(n => replacement.GetValueOrDefault(n, n)).ToList();
    }
}
