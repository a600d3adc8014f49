using Nabla.Onnx.Proto;

namespace Nabla.Onnx.Tests;

/// <summary>The outcome of one ONNX backend node test.</summary>
internal enum Outcome { Passed, Refused, Failed, NotClaimed }

/// <summary>One node test of Debian's libonnx-testdata: its folder, ops, outcome and a detail line.</summary>
internal sealed record NodeTestResult(string Name, IReadOnlyList<string> Ops, Outcome Outcome, string Detail);

/// <summary>
/// Runs the ONNX backend conformance node tests (model.onnx plus input_*.pb and output_*.pb in
/// each test_data_set_*) with Nabla's importer, comparing with the suite's default tolerances
/// (relative 1e-3, absolute 1e-7, as onnx.backend.test's runner).
/// </summary>
internal static class ConformanceSuite
{
    public const string Root = "/usr/share/libonnx-testdata/data/node";

    public const double RelativeTolerance = 1e-3, AbsoluteTolerance = 1e-7;

    public static bool Available => Directory.Exists(Root);

    public static IEnumerable<string> TestFolders() => Directory.EnumerateDirectories(Root, "test_*").Order(StringComparer.Ordinal);

    public static NodeTestResult Run(string folder)
    {
        string name = Path.GetFileName(folder);
        string modelPath = Path.Combine(folder, "model.onnx");
        ModelProto proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(modelPath));
        string[] ops = [.. proto.Graph.Node.Select(n => n.OpType).Distinct()];
        bool floatOutputs = proto.Graph.Output.All(o => o.Type?.TensorType?.ElemType == OnnxTypes.Float);
        bool claimed = floatOutputs && proto.Graph.Node.All(n => n.Domain is "" or "ai.onnx" && OnnxOps.Supports(n.OpType));
        OnnxGraph graph;
        try
        {
            graph = OnnxGraph.Load(modelPath);
        }
        catch (NotSupportedException e)
        {
            return new(name, ops, claimed ? Outcome.Refused : Outcome.NotClaimed, e.Message);
        }
        catch (Exception e)
        {
            return new(name, ops, claimed ? Outcome.Failed : Outcome.NotClaimed, $"load: {e.GetType().Name}: {e.Message}");
        }
        if (!claimed) return new(name, ops, Outcome.NotClaimed, "outputs are not float32");
        foreach (string set in Directory.EnumerateDirectories(folder, "test_data_set_*").Order(StringComparer.Ordinal))
        {
            try
            {
                var inputs = new Dictionary<string, OnnxValue>();
                var declared = proto.Graph.Input.Where(i => !proto.Graph.Initializer.Any(t => t.Name == i.Name)).ToList();
                for (int k = 0; k < declared.Count; k++)
                {
                    string file = Path.Combine(set, $"input_{k}.pb");
                    if (!File.Exists(file)) continue;
                    TensorProto t = TensorProto.Parser.ParseFrom(File.ReadAllBytes(file));
                    if (!OnnxTypes.IsFloatLike(t.DataType) && !OnnxTypes.IsIntegerLike(t.DataType))
                        return new(name, ops, Outcome.Refused, $"input {k} is {OnnxTypes.Name(t.DataType)}");
                    if (t.DataType is not (OnnxTypes.Float or OnnxTypes.Int64 or OnnxTypes.Int32 or OnnxTypes.Bool))
                        return new(name, ops, Outcome.NotClaimed, $"input {k} is {OnnxTypes.Name(t.DataType)}");
                    inputs[declared[k].Name] = OnnxTensorReader.Read(t, file);
                }
                var outputs = graph.Run(inputs, null, training: false);
                for (int k = 0; k < outputs.Count; k++)
                {
                    string file = Path.Combine(set, $"output_{k}.pb");
                    TensorProto t = TensorProto.Parser.ParseFrom(File.ReadAllBytes(file));
                    OnnxValue expected = OnnxTensorReader.Read(t, file);
                    string? mismatch = Compare(outputs[k], expected);
                    if (mismatch is not null) return new(name, ops, Outcome.Failed, $"{Path.GetFileName(set)} output {k}: {mismatch}");
                }
            }
            catch (NotSupportedException e)
            {
                return new(name, ops, Outcome.Refused, e.Message);
            }
            catch (Exception e)
            {
                return new(name, ops, Outcome.Failed, $"{Path.GetFileName(set)}: {e.GetType().Name}: {e.Message}");
            }
        }
        return new(name, ops, Outcome.Passed, "");
    }

    private static string? Compare(OnnxValue actual, OnnxValue expected)
    {
        if (!actual.Shape.SequenceEqual(expected.Shape)) return $"shape {OnnxShapes.Format(actual.Shape)}, expected {OnnxShapes.Format(expected.Shape)}";
        float[] a = actual.AsTensor().ToArray(), e = expected.AsTensor().ToArray();
        for (int k = 0; k < a.Length; k++)
        {
            if (float.IsNaN(e[k]) && float.IsNaN(a[k])) continue;
            if (float.IsInfinity(e[k]) && a[k] == e[k]) continue;
            double diff = Math.Abs((double)a[k] - e[k]);
            if (!(diff <= AbsoluteTolerance + RelativeTolerance * Math.Abs(e[k]))) return $"element {k} is {a[k]}, expected {e[k]}";
        }
        return null;
    }
}
