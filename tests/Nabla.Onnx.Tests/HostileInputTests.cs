using Google.Protobuf;
using Nabla.Onnx.Proto;

namespace Nabla.Onnx.Tests;

/// <summary>Broken, hostile and unsupported ONNX files get clear errors and bounded memory.</summary>
public class HostileInputTests
{
    private static ModelProto OneNode(string op, params long[] dims)
    {
        var graph = new GraphProto { Name = "g" };
        graph.Node.Add(new NodeProto { OpType = op, Name = "the_node", Input = { "x" }, Output = { "y" } });
        var shape = new TensorShapeProto();
        foreach (long d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        graph.Input.Add(new ValueInfoProto { Name = "x", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } });
        graph.Output.Add(new ValueInfoProto { Name = "y" });
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model;
    }

    [Fact]
    public void An_unsupported_op_is_named_with_its_node()
    {
        var ex = Assert.Throws<NotSupportedException>(() => OnnxGraph.Parse(OneNode("NonMaxSuppression", 1, 4).ToByteArray(), "test.onnx"));
        Assert.Contains("NonMaxSuppression node 'the_node'", ex.Message);
        Assert.Contains("Supported ops:", ex.Message);
    }

    [Fact]
    public void A_huge_declared_initializer_is_refused_before_it_is_allocated()
    {
        var model = OneNode("Relu", 1, 4);
        var t = new TensorProto { Name = "w", DataType = 1, Dims = { 1 << 20, 1 << 20 } };
        model.Graph.Initializer.Add(t);
        var ex = Assert.Throws<InvalidDataException>(() => OnnxGraph.Parse(model.ToByteArray(), "test.onnx"));
        Assert.Contains("initializer 'w'", ex.Message);

        // Within the element limit but without the data: refused by the data's length, before any allocation.
        model.Graph.Initializer[0] = new TensorProto { Name = "w", DataType = 1, Dims = { 1 << 14, 1 << 15 }, RawData = ByteString.CopyFrom(new byte[16]) };
        long before = GC.GetAllocatedBytesForCurrentThread();
        ex = Assert.Throws<InvalidDataException>(() => OnnxGraph.Parse(model.ToByteArray(), "test.onnx"));
        Assert.Contains("raw data has 16 bytes", ex.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "the refused tensor was allocated");
    }

    [Fact]
    public void A_stripped_weight_marker_in_an_outside_file_is_not_trusted()
    {
        var model = OneNode("Relu", 1, 4);
        model.Graph.Initializer.Add(new TensorProto { Name = "w", DataType = 1, Dims = { 1 << 14, 1 << 15 }, DocString = OnnxGraph.StrippedMarker });
        Assert.Throws<InvalidDataException>(() => OnnxGraph.Parse(model.ToByteArray(), "test.onnx"));
    }

    [Fact]
    public void Truncated_and_mutated_files_fail_with_clear_errors()
    {
        byte[] good = File.ReadAllBytes(ImportTests.Fixture("lstm.onnx"));
        var rng = new Random(1234);
        Tensor x = Tensor.RandN([2, 12, 8], new Generator(1));
        int refused = 0;
        for (int trial = 0; trial < 400; trial++)
        {
            byte[] bad = (byte[])good.Clone();
            if (trial % 4 == 0) bad = bad[..rng.Next(bad.Length)];
            else
            {
                for (int k = 0, flips = 1 + rng.Next(8); k < flips; k++) bad[rng.Next(bad.Length)] = (byte)rng.Next(256);
            }
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var graph = OnnxGraph.Parse(bad, "mutated.onnx");
                var model = OnnxImport.FromGraph(graph, new Dictionary<string, int[]> { [graph.Inputs.Count > 0 ? graph.Inputs[0].Name : "x"] = [12, 8] });
                model.Predict(x);
            }
            catch (Exception e) when (e is InvalidDataException or NotSupportedException or ArgumentException)
            {
                refused++;
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
            }
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 512L << 20, $"trial {trial} allocated {(GC.GetAllocatedBytesForCurrentThread() - before) >> 20} MB");
        }
        Assert.True(refused > 100, $"only {refused} of 400 mutations were refused");
    }
}
