using System.Text.Json.Nodes;
using Nabla.IO;

namespace Nabla.Tabular;

/// <summary>
/// The whole pipeline of <c>nabla predict</c> in an exported ONNX graph: the graph takes the
/// table's raw columns, one input per feature column named as the column, [N, 1] (float for
/// numeric columns, string, trimmed, for the others); it standardises and one-hot encodes them
/// as <see cref="TabularPreprocessor"/> does, and gives, for a classifier, <c>label</c> (string
/// [N]), <c>probability</c> (of that label, [N]) and <c>probabilities</c> ([N, classes], in the order
/// of the model's <c>classes</c> metadata); for a regression, <c>prediction</c> ([N, 1], in the
/// label's units). So ONNX Runtime alone reproduces <c>nabla predict</c>.
/// </summary>
public sealed class TabularOnnxPipeline(TabularPreprocessor preprocessing) : OnnxPipeline
{
    private readonly TabularPreprocessor _prep = preprocessing ?? throw new ArgumentNullException(nameof(preprocessing));

    /// <summary>Writes <paramref name="model"/> with this pipeline around it.</summary>
    public static void Save(Model model, string path, TabularPreprocessor preprocessing) => OnnxExport.Save(model, path, new TabularOnnxPipeline(preprocessing));

    /// <summary>The columns as model inputs: (x - mean) / std for numbers, one-hot for text, concatenated in order.</summary>
    public override string AddInputs(OnnxExport.Graph graph, int[] networkInputShape)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(networkInputShape);
        if (networkInputShape.Length != 1 || networkInputShape[0] != _prep.FeatureCount)
            throw new ArgumentException($"OnnxExport: the preprocessing makes {_prep.FeatureCount} inputs but the model takes [{string.Join(", ", networkInputShape)}].");
        var parts = new List<string>();
        foreach (var (name, numeric, mean, std, categories) in _prep.Encodings)
        {
            graph.Input(name, [1], text: !numeric);
            if (numeric)
            {
                parts.Add(graph.Op("Div", [graph.Op("Sub", [name, graph.Constant("mean", Tensor.Scalar(mean))]), graph.Constant("std", Tensor.Scalar(std))]));
                continue;
            }
            if (categories.Length == 0) continue; // a column with no training categories encodes to nothing
            // ai.onnx.ml's OneHotEncoder: [N, 1] strings -> [N, 1, K]; an unseen category is all zeros, as in Nabla.
            graph.UseDomain("ai.onnx.ml", 3);
            string hot = graph.Name("onehot");
            graph.Add("OneHotEncoder", [name], [hot], "ai.onnx.ml", ("cats_strings", categories), ("zeros", 1L));
            parts.Add(graph.Op("Reshape", [hot, graph.Ints("shape", -1, categories.Length)]));
        }
        return parts.Count == 1 ? parts[0] : graph.Op("Concat", [.. parts], ("axis", 1L));
    }

    /// <summary>The outputs of <c>nabla predict</c> from the network's output, and the task, label and classes as metadata.</summary>
    public override void AddOutputs(OnnxExport.Graph graph, string networkOutput, int[] networkOutputShape)
    {
        ArgumentNullException.ThrowIfNull(graph);
        graph.AddMetadata("task", _prep.Task.ToString().ToLowerInvariant());
        graph.AddMetadata("label", _prep.Label);
        if (_prep.Task == TabularTask.Regression)
        {
            string scaled = graph.Op("Mul", [networkOutput, graph.Constant("target_std", Tensor.Scalar(_prep.TargetStd))]);
            graph.Add("Add", [scaled, graph.Constant("target_mean", Tensor.Scalar(_prep.TargetMean))], ["prediction"]);
            graph.Output("prediction", [1]);
            return;
        }
        graph.AddMetadata("classes", new JsonArray(_prep.Classes.Select(c => (JsonNode?)c).ToArray()).ToJsonString());
        graph.Add("Softmax", [networkOutput], ["probabilities"], null, ("axis", -1L));
        graph.Add("ReduceMax", ["probabilities"], ["probability"], null, ("axes", new long[] { 1 }), ("keepdims", 0L));
        string best = graph.Op("ArgMax", ["probabilities"], ("axis", 1L), ("keepdims", 0L));
        graph.Add("Gather", [graph.Strings("classes", _prep.Classes), best], ["label"], null, ("axis", 0L));
        graph.Output("label", [], text: true);
        graph.Output("probability", []);
        graph.Output("probabilities", [_prep.Classes.Count]);
    }
}
