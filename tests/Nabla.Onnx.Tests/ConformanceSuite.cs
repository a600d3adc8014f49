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
        bool floatOutputs = proto.Graph.Output.All(o => o.Type?.TensorType?.ElemType is OnnxTypes.Float or OnnxTypes.Int64 or OnnxTypes.Int32 or OnnxTypes.Bool);
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
        if (!claimed) return new(name, ops, Outcome.NotClaimed, "outputs are not float32, int32, int64 or bool");
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

    /// <summary>A Markdown table: for each claimed op, the node tests whose graphs use it, passed and refused.</summary>
    public static string Table(IReadOnlyList<NodeTestResult> results)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("| op | tests passed | refused (by name) | failed |");
        sb.AppendLine("| --- | ---: | ---: | ---: |");
        foreach (string op in OnnxOps.Names)
        {
            var mine = results.Where(r => r.Outcome != Outcome.NotClaimed && r.Ops.Contains(op)).ToList();
            string refused = string.Join(", ", mine.Where(r => r.Outcome == Outcome.Refused).Select(r => r.Name));
            sb.AppendLine($"| {op} | {mine.Count(r => r.Outcome == Outcome.Passed)} | {mine.Count(r => r.Outcome == Outcome.Refused)}{(refused.Length > 0 ? $" ({refused})" : "")} | {mine.Count(r => r.Outcome == Outcome.Failed)} |");
        }
        sb.AppendLine();
        sb.AppendLine($"Totals over the {results.Count} node tests: {results.Count(r => r.Outcome == Outcome.Passed)} passed, {results.Count(r => r.Outcome == Outcome.Refused)} refused by name, {results.Count(r => r.Outcome == Outcome.Failed)} failed, {results.Count(r => r.Outcome == Outcome.NotClaimed)} not claimed (an op the importer does not implement, or outputs that are not float32, int32, int64 or bool).");
        return sb.ToString();
    }

    private static string? Compare(OnnxValue actual, OnnxValue expected)
    {
        // Some expected outputs of a scalar are stored as [1]; numpy's comparison (the suite's) broadcasts them.
        bool scalarQuirk = OnnxShapes.Count(actual.Shape) == 1 && OnnxShapes.Count(expected.Shape) == 1 && actual.Rank + expected.Rank <= 1;
        if (!actual.Shape.SequenceEqual(expected.Shape) && !scalarQuirk) return $"shape {OnnxShapes.Format(actual.Shape)}, expected {OnnxShapes.Format(expected.Shape)}";
        float[] a = actual.AsTensor().ToArray(), e = expected.AsTensor().ToArray();
        for (int k = 0; k < a.Length; k++)
        {
            if (float.IsNaN(e[k]) && float.IsNaN(a[k])) continue;
            if (float.IsInfinity(e[k]) && a[k] == e[k]) continue;
            double diff = Math.Abs((double)a[k] - e[k]);
            double tolerance = expected.IsInteger ? 0 : AbsoluteTolerance + RelativeTolerance * Math.Abs(e[k]);
            if (!(diff <= tolerance)) return $"element {k} is {a[k]}, expected {e[k]}";
        }
        return null;
    }
}
