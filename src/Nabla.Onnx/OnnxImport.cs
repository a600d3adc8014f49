using Nabla.Layers;

namespace Nabla.Onnx;

/// <summary>
/// Imports ONNX models as Nabla models: <c>var model = OnnxImport.Load("net.onnx");</c> then
/// <c>Predict</c>, <c>Compile</c> + <c>Fit</c> to fine-tune, and <c>Save</c> as a Nabla model file.
/// </summary>
public static class OnnxImport
{
    private static int s_registered;

    /// <summary>
    /// Registers <see cref="OnnxGraphLayer"/> in the layer catalog (under <c>OnnxGraph</c>), so that
    /// model files holding imported graphs load. <see cref="Load"/> calls it; a program that only
    /// loads saved models calls it once at start.
    /// </summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref s_registered, 1) == 0) LayerCatalog.Register(OnnxGraphLayer.FromConfig, "OnnxGraph");
    }

    /// <summary>
    /// Reads an ONNX file as a functional <see cref="Model"/>: one input per graph input (named as in
    /// the file), the graph as one <see cref="OnnxGraphLayer"/>, and its output (the first, or
    /// <paramref name="output"/>). The first dimension of every input is the batch; the others must
    /// be fixed in the file or given in <paramref name="sampleShapes"/> (by input name, batch excluded).
    /// </summary>
    public static Model Load(string path, IReadOnlyDictionary<string, int[]>? sampleShapes = null, string? output = null) =>
        FromGraph(OnnxGraph.Load(path), sampleShapes, output, Path.GetFileNameWithoutExtension(path));

    /// <summary>As <see cref="Load"/>, for a graph already read.</summary>
    public static Model FromGraph(OnnxGraph graph, IReadOnlyDictionary<string, int[]>? sampleShapes = null, string? output = null, string name = "onnx_model")
    {
        ArgumentNullException.ThrowIfNull(graph);
        Register();
        var inputs = new List<Input>();
        foreach (var info in graph.Inputs)
        {
            int[] sample;
            if (sampleShapes is not null && sampleShapes.TryGetValue(info.Name, out var given)) sample = given;
            else
            {
                if (info.Shape.Count == 0)
                    throw new InvalidDataException($"{graph.Source}: input '{info.Name}' has no declared shape; give its sample shape (sampleShapes, or --input-shape {info.Name}=D1xD2...).");
                sample = [.. info.Shape.Skip(1)];
                if (sample.Any(d => d < 1))
                    throw new InvalidDataException($"{graph.Source}: input '{info.Name}' has shape [{string.Join(", ", info.Shape.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}] with a symbolic dimension after the batch; give its sample shape (sampleShapes, or --input-shape {info.Name}=D1xD2...).");
            }
            inputs.Add(new Input(info.Name, sample));
        }
        var layer = new OnnxGraphLayer(graph, output, "onnx");
        var result = layer.Apply([.. inputs.Select(i => i.Output)]);
        return new Model([.. inputs.Select(i => i.Output)], [result], name);
    }
}
