using System.Text;
using Nabla.Onnx.Proto;

namespace Nabla.Onnx;

/// <summary>One node of an ONNX graph with typed access to its attributes; errors name the node.</summary>
internal sealed class OnnxNode
{
    private readonly Dictionary<string, AttributeProto> _attributes = [];

    public OnnxNode(NodeProto proto, int index)
    {
        Proto = proto;
        OpType = proto.OpType;
        Label = $"{proto.OpType} node '{(proto.HasName && proto.Name.Length > 0 ? proto.Name : $"#{index}")}'";
        foreach (var a in proto.Attribute)
        {
            if (!_attributes.TryAdd(a.Name, a)) throw new InvalidDataException($"{Label}: attribute '{a.Name}' is given twice.");
        }
    }

    public NodeProto Proto { get; }

    public string OpType { get; }

    /// <summary>"Conv node 'conv1'": how every error names this node.</summary>
    public string Label { get; }

    public IReadOnlyList<string> Inputs => Proto.Input;

    public IReadOnlyList<string> Outputs => Proto.Output;

    public bool Has(string name) => _attributes.ContainsKey(name);

    public IEnumerable<string> AttributeNames => _attributes.Keys;

    private AttributeProto? Get(string name, AttributeProto.Types.AttributeType type)
    {
        if (!_attributes.TryGetValue(name, out var a)) return null;
        if (a.HasType && a.Type != type) throw new InvalidDataException($"{Label}: attribute '{name}' is {a.Type}, expected {type}.");
        return a;
    }

    public long Int(string name, long fallback) => Get(name, AttributeProto.Types.AttributeType.Int) is { } a ? a.I : fallback;

    public float Float(string name, float fallback) => Get(name, AttributeProto.Types.AttributeType.Float) is { } a ? a.F : fallback;

    public string String(string name, string fallback) => Get(name, AttributeProto.Types.AttributeType.String) is { } a ? Encoding.UTF8.GetString(a.S.Span) : fallback;

    public long[]? Ints(string name) => Get(name, AttributeProto.Types.AttributeType.Ints) is { } a ? [.. a.Ints] : null;

    public float[]? Floats(string name) => Get(name, AttributeProto.Types.AttributeType.Floats) is { } a ? [.. a.Floats] : null;

    public string[]? Strings(string name) => Get(name, AttributeProto.Types.AttributeType.Strings) is { } a ? a.Strings.Select(s => Encoding.UTF8.GetString(s.Span)).ToArray() : null;

    public TensorProto? TensorAttribute(string name) => Get(name, AttributeProto.Types.AttributeType.Tensor)?.T;

    /// <summary>Refuses an attribute value the importer does not implement, by name.</summary>
    public NotSupportedException Unsupported(string what) => new($"{Label}: {what} is not supported by Nabla's ONNX importer.");

    public InvalidDataException Invalid(string what) => new($"{Label}: {what}.");
}
