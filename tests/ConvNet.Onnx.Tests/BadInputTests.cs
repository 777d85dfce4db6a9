using ConvNet.Onnx.Protobuf;
using Google.Protobuf;
using static ConvNet.Onnx.OnnxGraphBuilder;

namespace ConvNet.Onnx.Tests;

/// <summary>Malformed or unsupported files give one clear exception naming the file (and node), never a crash from deep inside.</summary>
public class BadInputTests
{
    private static byte[] Small() => OnnxExporter.ToBytes(ExportTests.Case("gap-dense").Model);

    /// <summary>Converts and builds the ConvNet model, as OnnxImporter.Load does.</summary>
    private static Exception Import(byte[] bytes) => Record.Exception(() => OnnxImporter.LoadGraph(bytes, "bad.onnx").ToModel())!;

    [Fact]
    public void Truncation_at_every_offset_is_InvalidDataException_naming_the_file()
    {
        var model = OnnxExporter.Export(ExportTests.Case("gap-dense").Model, 17, OnnxLayout.Nhwc);
        var bytes = model.ToByteArray();
        Assert.True(bytes.Length > 500);
        // Protobuf cannot tell a file cut exactly before its last top-level field from a complete one: ConvNet's export
        // ends with the metadata entry naming the input layout, and without it the graph's own Transpose still says NHWC.
        int lastField = bytes.Length - CodedOutputStream.ComputeTagSize(14) - CodedOutputStream.ComputeMessageSize(model.MetadataProps.Single());
        var x = ExportTests.Case("gap-dense").X;
        var whole = OnnxImporter.LoadGraph(bytes, "whole").ToModel().Predict(x).ToArray();
        Assert.Equal(whole, OnnxImporter.LoadGraph(bytes[..lastField], "cut").ToModel().Predict(x).ToArray());
        for (int n = 0; n < bytes.Length; n++)
        {
            if (n == lastField) continue;
            var e = Import(bytes[..n]);
            Assert.True(e is InvalidDataException, $"truncated to {n} of {bytes.Length} bytes: {e?.GetType().Name}: {e?.Message}");
            Assert.Contains("'bad.onnx'", e!.Message);
        }
    }

    [Fact]
    public void Truncated_ResNet18_is_InvalidDataException()
    {
        var bytes = File.ReadAllBytes(ResNet18Tests.ResNet18Path);
        foreach (var n in new[] { 0, 1, 10, 1000, 100_000, bytes.Length / 3, bytes.Length / 2, bytes.Length - 100, bytes.Length - 1 })
        {
            var e = Import(bytes[..n]);
            Assert.True(e is InvalidDataException, $"truncated to {n}: {e?.GetType().Name}: {e?.Message}");
        }
    }

    [Fact]
    public void Garbage_and_flipped_bytes_give_InvalidDataException_or_NotSupportedException()
    {
        var r = new Random(5);
        for (int i = 0; i < 300; i++)
        {
            var junk = new byte[r.Next(1, 2000)];
            r.NextBytes(junk);
            var e = Import(junk);
            Assert.True(e is InvalidDataException, $"garbage {i}: {e?.GetType().Name}: {e?.Message}");
        }
        foreach (var good in new[] { Small(), OnnxExporter.ToBytes(ExportTests.Case("merges-images").Model), OnnxExporter.ToBytes(ExportTests.Case("depthwise-separable").Model) })
            for (int i = 0; i < 400; i++)
            {
                var b = (byte[])good.Clone();
                for (int k = r.Next(1, 4); k > 0; k--) b[r.Next(b.Length)] ^= (byte)(1 << r.Next(8));
                var e = Import(b);
                // Flipped bits may still leave a valid model (e.g. in a weight); anything else must be one of the two documented errors.
                Assert.True(e is null or InvalidDataException or NotSupportedException, $"flip {i}: {e?.GetType().Name}: {e?.Message}\n{e?.StackTrace}");
            }
    }

    private static ModelProto Model(int opset = 13)
    {
        var m = new ModelProto { IrVersion = 7, Graph = new GraphProto { Name = "g" } };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        m.Graph.Input.Add(FloatValue("x", null, 2, 4, 4));
        m.Graph.Output.Add(new ValueInfoProto { Name = "y" });
        return m;
    }

    private static NodeProto Node(string op, string name, string[] inputs, string[] outputs, params AttributeProto[] attrs)
    {
        var n = new NodeProto { OpType = op, Name = name };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        n.Attribute.AddRange(attrs);
        return n;
    }

    [Fact]
    public void A_lying_initializer_size_is_refused_before_allocating()
    {
        var m = Model();
        var t = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(new byte[16]) };
        t.Dims.AddRange([1_000_000, 1_000_000, 3, 3]);
        m.Graph.Initializer.Add(t);
        m.Graph.Node.Add(Node("Conv", "conv", ["x", "w"], ["y"]));
        var e = Assert.IsType<InvalidDataException>(Import(m.ToByteArray()));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("holds 16 bytes", e.Message);

        var overflow = Model();
        var t2 = new TensorProto { Name = "big", DataType = (int)TensorProto.Types.DataType.Float };
        t2.Dims.AddRange([long.MaxValue / 2, 4]);
        overflow.Graph.Initializer.Add(t2);
        overflow.Graph.Node.Add(Node("Relu", "r", ["x"], ["y"]));
        Assert.Contains("overflows", Assert.IsType<InvalidDataException>(Import(overflow.ToByteArray())).Message);

        var negative = Model();
        var t3 = new TensorProto { Name = "neg", DataType = (int)TensorProto.Types.DataType.Float };
        t3.Dims.AddRange([-4]);
        negative.Graph.Initializer.Add(t3);
        negative.Graph.Node.Add(Node("Relu", "r", ["x"], ["y"]));
        Assert.Contains("negative", Assert.IsType<InvalidDataException>(Import(negative.ToByteArray())).Message);
    }

    [Fact]
    public void Every_unsupported_node_is_listed_with_op_type_name_and_reason()
    {
        var m = Model();
        m.Graph.Initializer.Add(new TensorProto { Name = "w", DataType = 1, Dims = { 2, 1, 3, 3 }, FloatData = { new float[18] } });
        m.Graph.Node.Add(Node("Conv", "dilated", ["x", "w"], ["a"], Ints("dilations", 2, 2), Int("group", 2)));
        m.Graph.Node.Add(Node("HardSigmoid", "hs", ["x"], ["b"]));
        m.Graph.Node.Add(Node("MaxPool", "ceil", ["x"], ["c"], Ints("kernel_shape", 2, 2), Int("ceil_mode", 1)));
        m.Graph.Node.Add(Node("Relu", "r", ["x"], ["y"], Int("bogus", 1)));
        var e = Assert.IsType<NotSupportedException>(Import(m.ToByteArray()));
        Assert.Contains("'bad.onnx' has 4 node(s)", e.Message);
        Assert.Contains("'dilated' (Conv): dilations [2, 2] not supported", e.Message);
        Assert.Contains("'hs' (HardSigmoid): this operator is not supported", e.Message);
        Assert.Contains("'ceil' (MaxPool): ceil_mode = 1 not supported", e.Message);
        Assert.Contains("'r' (Relu): attribute(s) 'bogus' not supported", e.Message);

        var d = Model();
        d.Graph.Initializer.Add(new TensorProto { Name = "w", DataType = 1, Dims = { 2, 2, 3, 3 }, FloatData = { new float[36] } });
        d.Graph.Node.Add(Node("Conv", "grouped", ["x", "w"], ["y"], Int("group", 2)));
        Assert.Contains("'grouped' (Conv): group 2 not supported", Assert.IsType<NotSupportedException>(Import(d.ToByteArray())).Message);
    }

    [Fact]
    public void An_output_not_computed_from_the_input_is_refused()
    {
        // Found by the bit-flip fuzzing: an output named '' (the name of an absent optional input).
        var empty = Model();
        empty.Graph.Output[0].Name = "";
        empty.Graph.Node.Add(Node("Relu", "r", ["x"], ["y"]));
        Assert.Contains("no name", Assert.IsType<InvalidDataException>(Import(empty.ToByteArray())).Message);
        var constant = Model();
        constant.Graph.Initializer.Add(new TensorProto { Name = "y", DataType = 1, FloatData = { 1f } });
        constant.Graph.Node.Add(Node("Relu", "r", ["x"], ["unused"]));
        Assert.Contains("'y' is a constant", Assert.IsType<NotSupportedException>(Import(constant.ToByteArray())).Message);
    }

    [Fact]
    public void Values_a_layer_would_refuse_are_reported_by_node()
    {
        var m = Model();
        m.Graph.Node.Add(Node("Mul", "times_zero", ["x", "zero"], ["y"]));
        m.Graph.Initializer.Add(new TensorProto { Name = "zero", DataType = 1, FloatData = { 0f } });
        Assert.Contains("'times_zero' (Mul): Mul by 0 not supported", Assert.IsType<NotSupportedException>(Import(m.ToByteArray())).Message);
    }

    [Fact]
    public void Asymmetric_max_pool_pads_on_a_possibly_negative_input_are_refused()
    {
        // Zero padding equals MaxPool's implicit −∞ padding only for inputs ≥ 0; here the input is the raw graph input.
        var m = Model();
        m.Graph.Node.Add(Node("MaxPool", "pool", ["x"], ["y"], Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0)));
        var e = Assert.IsType<NotSupportedException>(Import(m.ToByteArray()));
        Assert.Contains("'pool' (MaxPool): pads [1, 1, 0, 0] differ from TF's Same placement [0, 0, 1, 1] and the input is not known to be non-negative", e.Message);
        // After a Relu the same pool imports (ZeroPadding2D + Valid).
        var ok = Model();
        ok.Graph.Node.Add(Node("Relu", "r", ["x"], ["rx"]));
        ok.Graph.Node.Add(Node("MaxPool", "pool", ["rx"], ["y"], Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0)));
        Assert.Null(Import(ok.ToByteArray()));
    }

    [Theory]
    [InlineData(6)]
    [InlineData(22)]
    public void Opset_out_of_range_is_refused(int opset)
    {
        var m = Model(opset);
        m.Graph.Node.Add(Node("Relu", "r", ["x"], ["y"]));
        Assert.Contains($"opset {opset} is not supported", Assert.IsType<InvalidDataException>(Import(m.ToByteArray())).Message);
    }

    [Fact]
    public void Two_inputs_a_cycle_an_undefined_value_and_external_data_are_refused()
    {
        var two = Model();
        two.Graph.Input.Add(FloatValue("x2", null, 2, 4, 4));
        two.Graph.Node.Add(Node("Add", "add", ["x", "x2"], ["y"]));
        Assert.Contains("2 inputs", Assert.IsType<InvalidDataException>(Import(two.ToByteArray())).Message);

        var cycle = Model();
        cycle.Graph.Node.Add(Node("Relu", "a", ["b_out"], ["a_out"]));
        cycle.Graph.Node.Add(Node("Add", "b", ["x", "a_out"], ["b_out"]));
        cycle.Graph.Node.Add(Node("Relu", "c", ["b_out"], ["y"]));
        Assert.Contains("cycle", Assert.IsType<InvalidDataException>(Import(cycle.ToByteArray())).Message);

        var undefined = Model();
        undefined.Graph.Node.Add(Node("Add", "add", ["x", "nowhere"], ["y"]));
        Assert.Contains("'nowhere', which no node", Assert.IsType<InvalidDataException>(Import(undefined.ToByteArray())).Message);

        var external = Model();
        var t = new TensorProto { Name = "w", DataType = 1, Dims = { 2, 2, 1, 1 }, DataLocation = TensorProto.Types.DataLocation.External };
        t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
        external.Graph.Initializer.Add(t);
        external.Graph.Node.Add(Node("Conv", "conv", ["x", "w"], ["y"]));
        Assert.Contains("external", Assert.IsType<InvalidDataException>(Import(external.ToByteArray())).Message);
    }

    [Fact]
    public void Missing_file_names_the_path()
    {
        var e = Assert.Throws<FileNotFoundException>(() => OnnxImporter.Load("/nonexistent/model.onnx"));
        Assert.Contains("/nonexistent/model.onnx", e.Message);
    }
}
