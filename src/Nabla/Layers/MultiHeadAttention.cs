using System.Text.Json.Nodes;

namespace Nabla.Layers;

/// <summary>
/// Multi-head attention with PyTorch's nn.MultiheadAttention weights (batch first): the query, key
/// and value projections stacked in <c>in_proj_weight</c> [3E, E] and <c>in_proj_bias</c> [3E], the
/// output projection <c>out_proj.weight</c> [E, E] and <c>out_proj.bias</c>, so a PyTorch state dict
/// loads as it is. Called on one tensor [N, T, E] it is self-attention; on [query, value] or
/// [query, key, value] (a functional model's <c>Apply(q, v)</c>, or <see cref="Forward(IReadOnlyList{Tensor}, IReadOnlyList{Tensor?}?)"/>)
/// cross-attention. A mask of real steps arriving with the key (from an Embedding with a padding
/// id) keeps queries off the padding; <see cref="Causal"/> keeps each position off later ones.
/// Output [N, Tq, E].
/// </summary>
public sealed class MultiHeadAttention : Layer
{
    /// <summary>Creates attention with <paramref name="heads"/> heads over <paramref name="embedDim"/> features (divisible by the heads).</summary>
    /// <param name="embedDim">Features of queries, keys, values and output (PyTorch's embed_dim).</param>
    /// <param name="heads">Number of heads (num_heads); each attends over embedDim / heads features.</param>
    /// <param name="dropout">Dropout on the attention weights in training.</param>
    /// <param name="causal">Each position attends only to itself and earlier ones (a language model).</param>
    /// <param name="name">Display name.</param>
    public MultiHeadAttention(int embedDim, int heads, float dropout = 0f, bool causal = false, string? name = null) : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(embedDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(heads, 1);
        if (embedDim % heads != 0) throw new ArgumentException($"MultiHeadAttention: embedDim {embedDim} is not divisible by {heads} heads.", nameof(heads));
        if (!(dropout >= 0f && dropout < 1f)) throw new ArgumentOutOfRangeException(nameof(dropout), $"MultiHeadAttention dropout must be in [0, 1), not {dropout}.");
        EmbedDim = embedDim;
        Heads = heads;
        Dropout = dropout;
        Causal = causal;
        // PyTorch's initialisation: Xavier-uniform for the stacked projections, zero biases.
        InProjWeight = AddParameter("in_proj_weight", new Initializers.GlorotUniform().Create([3 * embedDim, embedDim], Generator.Default));
        InProjBias = AddParameter("in_proj_bias", Tensor.Zeros(3 * embedDim));
        OutProj = AddModule("out_proj", new Dense(embedDim, biasInitializer: new Initializers.Zeros(), inputFeatures: embedDim));
    }

    /// <summary>Features of the inputs and the output.</summary>
    public int EmbedDim { get; }

    /// <summary>Number of heads.</summary>
    public int Heads { get; }

    /// <summary>Dropout on the attention weights in training.</summary>
    public float Dropout { get; }

    /// <summary>Whether each position attends only to itself and earlier ones.</summary>
    public bool Causal { get; }

    /// <summary>The query, key and value projections stacked [3E, E].</summary>
    public Parameter InProjWeight { get; }

    /// <summary>Their biases [3E].</summary>
    public Parameter InProjBias { get; }

    /// <summary>The output projection.</summary>
    public Dense OutProj { get; }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["embed_dim"] = EmbedDim, ["num_heads"] = Heads, ["dropout"] = Dropout, ["causal"] = Causal };

    /// <summary>Rebuilds a layer from its <see cref="GetConfig"/>.</summary>
    public static MultiHeadAttention FromConfig(ConfigReader c) => new(c.Int("embed_dim"), c.Int("num_heads"), c.Float("dropout", 0f), c.Bool("causal", false));

    /// <inheritdoc/>
    protected override void Build(ReadOnlySpan<int> inputShape)
    {
        if (inputShape.Length != 2 || inputShape[1] != EmbedDim)
            throw new ArgumentException($"{Label} expects inputs [N, T, {EmbedDim}], but got samples of shape [{string.Join(", ", inputShape.ToArray())}].");
    }

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input) => Attend(input, input, input, null);

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input, Tensor mask) => Attend(input, input, input, mask);

    /// <summary>The mask of the query's real steps goes on with the output (its time axis is the query's).</summary>
    public override Tensor? ComputeMask(Tensor input, Tensor? mask) => mask;

    /// <summary>Self-attention on [x], cross-attention on [query, value] (the value is also the key) or [query, key, value]; a mask per input (the key's keeps queries off its padding).</summary>
    public override Tensor Forward(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?>? masks = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count is < 1 or > 3) throw new ArgumentException($"{Label} takes [x], [query, value] or [query, key, value], got {inputs.Count} inputs.");
        if (inputs.Count == 1) return Forward(inputs[0], masks?[0]);
        // [query, value] uses the value as the key too; [query, key, value] names it.
        Tensor query = inputs[0], key = inputs[1], value = inputs[^1];
        foreach (var t in inputs)
        {
            if (t.Rank != 3 || t.Shape[2] != EmbedDim || t.Shape[0] != query.Shape[0])
                throw new ArgumentException($"{Label} expects [N, T, {EmbedDim}] inputs with one batch size, got {string.Join(" and ", inputs.Select(x => x.ShapeString))}.");
        }
        if (key.Shape[1] != value.Shape[1]) throw new ArgumentException($"{Label}: key {key.ShapeString} and value {value.ShapeString} need the same number of steps.");
        EnsureBuilt(query.Shape[1..]);
        Tensor? keyMask = masks is null ? null : masks[1];
        return Attend(query, key, value, keyMask);
    }

    /// <summary>The mask after cross-attention: the query's.</summary>
    public override Tensor? ComputeMask(IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?> masks)
    {
        ArgumentNullException.ThrowIfNull(masks);
        return masks.Count > 0 ? masks[0] : null;
    }

    /// <summary>
    /// Self-attention of new steps x [N, t, E] over every step so far (text generation): their keys
    /// and values are appended to <paramref name="cache"/>, and the new queries attend to all cached
    /// steps up to their own, so each new token costs one step, not a re-run of the prefix.
    /// </summary>
    public Tensor Step(Tensor x, KeyValueCache cache)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(cache);
        if (x.Rank != 3 || x.Shape[2] != EmbedDim) throw new ArgumentException($"{Label} expects inputs [N, t, {EmbedDim}], but got {x.ShapeString}.");
        int n = x.Shape[0], t = x.Shape[1], e = EmbedDim, dh = e / Heads;
        Tensor qkv = Tensor.Linear(x.Reshape(-1, e), InProjWeight.Value, InProjBias.Value, relu: false).Reshape(n, t, 3 * e);
        Tensor Split(Tensor m) => m.Reshape(n, t, Heads, dh).Transpose(1, 2);
        Tensor q = Split(qkv.Slice(2, 0, e));
        cache.Append(Split(qkv.Slice(2, e, 2 * e)).Contiguous(), Split(qkv.Slice(2, 2 * e, 3 * e)).Contiguous());
        // Causal over the cache: query i of the new steps sees the cached steps and new steps up to i.
        Tensor heads = Tensor.ScaledDotProductAttention(q, cache.Keys!, cache.Values!, causal: Causal);
        return OutProj.Forward(heads.Transpose(1, 2).Reshape(n, t, e));
    }

    private Tensor Attend(Tensor query, Tensor key, Tensor value, Tensor? keyMask)
    {
        if (query.Rank != 3 || query.Shape[2] != EmbedDim)
            throw new ArgumentException($"{Label} expects inputs [N, T, {EmbedDim}], but got {query.ShapeString}.");
        int n = query.Shape[0], tq = query.Shape[1], tk = key.Shape[1], e = EmbedDim, dh = e / Heads;
        Tensor w = InProjWeight.Value, b = InProjBias.Value;
        Tensor q, k, v;
        // x [N, T, E] x W^T + b over all N * T steps in one product.
        static Tensor Project(Tensor x, Tensor weight, Tensor bias) =>
            Tensor.Linear(x.Reshape(-1, x.Shape[2]), weight, bias, relu: false).Reshape(x.Shape[0], x.Shape[1], weight.Shape[0]);
        if (ReferenceEquals(query, key) && ReferenceEquals(key, value))
        {
            // One product for the three projections.
            Tensor qkv = Project(query, w, b);
            q = qkv.Slice(2, 0, e);
            k = qkv.Slice(2, e, 2 * e);
            v = qkv.Slice(2, 2 * e, 3 * e);
        }
        else
        {
            q = Project(query, w.Slice(0, 0, e), b.Slice(0, 0, e));
            k = Project(key, w.Slice(0, e, 2 * e), b.Slice(0, e, 2 * e));
            v = Project(value, w.Slice(0, 2 * e, 3 * e), b.Slice(0, 2 * e, 3 * e));
        }
        // [N, T, E] -> [N, heads, T, dh]
        Tensor Split(Tensor x, int t) => x.Reshape(n, t, Heads, dh).Transpose(1, 2);
        Tensor? mask = null;
        if (keyMask is not null)
        {
            if (keyMask.Rank != 2 || keyMask.Shape[0] != n || keyMask.Shape[1] != tk)
                throw new ArgumentException($"{Label}: the key's mask must be [{n}, {tk}], got {keyMask.ShapeString}.");
            mask = keyMask.Reshape(n, 1, 1, tk);
        }
        Tensor heads = Tensor.ScaledDotProductAttention(Split(q, tq), Split(k, tk), Split(v, tk), mask, Causal, IsTraining ? Dropout : 0f);
        return OutProj.Forward(heads.Transpose(1, 2).Reshape(n, tq, e));
    }
}

/// <summary>
/// The keys and values one attention layer has seen so far while generating, [N, heads, steps, dh]
/// each, grown by <see cref="MultiHeadAttention.Step"/>.
/// </summary>
public sealed class KeyValueCache
{
    /// <summary>The cached keys (null before the first step).</summary>
    public Tensor? Keys { get; private set; }

    /// <summary>The cached values (null before the first step).</summary>
    public Tensor? Values { get; private set; }

    /// <summary>Steps cached.</summary>
    public int Length => Keys?.Shape[2] ?? 0;

    /// <summary>Appends the keys and values of new steps [N, heads, t, dh].</summary>
    public void Append(Tensor keys, Tensor values)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(values);
        Keys = Keys is null ? keys : Tensor.Concat([Keys, keys], 2);
        Values = Values is null ? values : Tensor.Concat([Values, values], 2);
    }
}
