using System.Text.Json.Nodes;
using Nabla.Initializers;

namespace Nabla.Layers;

/// <summary>
/// The common part of SimpleRNN, LSTM and GRU over batch-first sequences [N, T, F]. Parameters
/// have PyTorch's names and layouts (weight_ih_l0 [G*units, F], weight_hh_l0 [G*units, units],
/// bias_ih_l0, bias_hh_l0, with G gates), so weights cross over. The input projection of all
/// time steps is one matrix product; each step then adds the recurrent product. A mask [N, T]
/// (1 = real step, 0 = padding) makes padded steps carry the state over unchanged, as Keras does.
/// </summary>
public abstract class RecurrentLayer : Layer
{
    private readonly Initializer _kernelInitializer, _recurrentInitializer;

    /// <summary>Sets the size and output mode.</summary>
    protected RecurrentLayer(int units, bool returnSequences, Initializer? kernelInitializer, Initializer? recurrentInitializer, int[]? inputShape, string? name)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(units, 1);
        Units = units;
        ReturnSequences = returnSequences;
        _kernelInitializer = kernelInitializer ?? new GlorotUniform();
        _recurrentInitializer = recurrentInitializer ?? new Orthogonal();
        if (inputShape is not null) EnsureBuilt(inputShape);
    }

    /// <summary>Size of the hidden state.</summary>
    public int Units { get; }

    /// <summary>Return the hidden state of every step [N, T, units] rather than the last [N, units].</summary>
    public bool ReturnSequences { get; }

    /// <summary>Gates per unit: 1 (SimpleRNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n).</summary>
    protected abstract int Gates { get; }

    /// <summary>States carried between steps: 1 (h), or 2 for LSTM (h, c).</summary>
    protected virtual int StateCount => 1;

    /// <summary>Input-to-hidden weight [G*units, F].</summary>
    public Parameter? WeightIh { get; private set; }
    /// <summary>Hidden-to-hidden weight [G*units, units].</summary>
    public Parameter? WeightHh { get; private set; }
    /// <summary>Input bias [G*units].</summary>
    public Parameter? BiasIh { get; private set; }
    /// <summary>Hidden bias [G*units].</summary>
    public Parameter? BiasHh { get; private set; }

    /// <summary>A new, unbuilt layer with the same settings (used by <see cref="Bidirectional"/>).</summary>
    public abstract RecurrentLayer CloneSettings();

    /// <summary>The starting value of the input bias; LSTM sets its forget gate to 1, as Keras's unit_forget_bias.</summary>
    protected virtual Tensor InitialInputBias() => Tensor.Zeros(Gates * Units);

    /// <inheritdoc/>
    protected override void Build(ReadOnlySpan<int> inputShape)
    {
        if (inputShape.Length != 2) throw new ArgumentException($"{Label} needs inputs [N, T, features], got [batch, {string.Join(", ", inputShape.ToArray())}].");
        int g = Gates * Units;
        WeightIh = AddParameter("weight_ih_l0", _kernelInitializer.Create([g, inputShape[1]], Generator.Default));
        WeightHh = AddParameter("weight_hh_l0", _recurrentInitializer.Create([g, Units], Generator.Default));
        BiasIh = AddParameter("bias_ih_l0", InitialInputBias());
        BiasHh = AddParameter("bias_hh_l0", Tensor.Zeros(g));
    }

    /// <summary>One step: the projected input of this step [N, G*units] (input bias included) and the states; returns the new states (h first).</summary>
    protected abstract Tensor[] Step(Tensor projectedInput, Tensor[] states);

    /// <summary>
    /// The whole sequence in one fused op, when the layer has one (LSTM), from the input
    /// projections of all steps without the input bias (the op adds both biases) and the mask
    /// if any; null to run step by step. Returns the output and the final states, as <see cref="Run"/>.
    /// </summary>
    protected virtual (Tensor Output, Tensor[] States)? RunWhole(Tensor projected, Tensor[] states, Tensor? mask) => null;

    /// <summary>The recurrent product h W_hh^T + b_hh [N, G*units].</summary>
    protected Tensor Recurrent(Tensor h) => h.MatMul(WeightHh!.Value.T) + BiasHh!;

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input) => Run(input).Output;

    /// <summary>Runs with a mask [N, T] of real (1) and padded (0) steps.</summary>
    protected override Tensor Call(Tensor input, Tensor mask) => Run(input, null, mask).Output;

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["units"] = Units, ["return_sequences"] = ReturnSequences };

    /// <summary>
    /// Runs the sequence from <paramref name="initialStates"/> (zeros when null; LSTM takes h and c),
    /// honouring <paramref name="mask"/>; returns the output and the final states.
    /// </summary>
    public (Tensor Output, Tensor[] States) Run(Tensor input, Tensor[]? initialStates = null, Tensor? mask = null)
    {
        if (input.Rank != 3) throw new ArgumentException($"{Label} expects inputs [N, T, features], but got shape {input.ShapeString}.");
        EnsureBuilt(input.Shape[1..]);
        int n = input.Shape[0], t = input.Shape[1], f = input.Shape[2];
        if (f != WeightIh!.Shape[1])
            throw new ArgumentException($"{Label} expects {WeightIh.Shape[1]} features per step, but got shape {input.ShapeString}.");
        if (mask is not null && (mask.Rank != 2 || mask.Shape[0] != n || mask.Shape[1] != t))
            throw new ArgumentException($"{Label}: mask must be [{n}, {t}], got {mask.ShapeString}.");
        Tensor[] states = initialStates ?? Enumerable.Range(0, StateCount).Select(_ => Tensor.Zeros(n, Units)).ToArray();
        if (states.Length != StateCount || states.Any(s => s.Rank != 2 || s.Shape[0] != n || s.Shape[1] != Units))
            throw new ArgumentException($"{Label}: expects {StateCount} initial state(s) of shape [{n}, {Units}].");
        // All steps' input projections in one product: [N*T, F] x [F, G*units].
        Tensor product = input.Reshape(n * t, f).MatMul(WeightIh.Value.T);
        if (t > 0 && RunWhole(product.Reshape(n, t, Gates * Units), states, mask) is { } whole) return whole;
        Tensor projected = (product + BiasIh!).Reshape(n, t, Gates * Units);
        var outputs = ReturnSequences ? new List<Tensor>(t) : null;
        for (int step = 0; step < t; step++)
        {
            Tensor[] next = Step(projected.Select(1, step), states);
            if (mask is not null)
            {
                Tensor m = mask.Select(1, step).Unsqueeze(1);
                for (int i = 0; i < next.Length; i++) next[i] = Tensor.Where(m, next[i], states[i]);
            }
            states = next;
            outputs?.Add(states[0]);
        }
        Tensor output = outputs is null ? states[0] : Tensor.Stack(outputs, 1);
        return (output, states);
    }
}

/// <summary>The plain recurrent layer: h' = activation(x W_ih^T + b_ih + h W_hh^T + b_hh) (tanh by default), as PyTorch's RNN.</summary>
public sealed class SimpleRNN : RecurrentLayer
{
    /// <summary>Creates a SimpleRNN layer.</summary>
    public SimpleRNN(int units, ActivationFunction? activation = null, bool returnSequences = false,
        Initializer? kernelInitializer = null, Initializer? recurrentInitializer = null, int[]? inputShape = null, string? name = null)
        : base(units, returnSequences, kernelInitializer, recurrentInitializer, inputShape, name) => Activation = activation ?? Activations.Tanh;

    /// <summary>Applied to the new state.</summary>
    public ActivationFunction Activation { get; }

    /// <inheritdoc/>
    protected override int Gates => 1;

    /// <inheritdoc/>
    public override RecurrentLayer CloneSettings() => new SimpleRNN(Units, Activation, ReturnSequences);

    /// <inheritdoc/>
    public override JsonObject GetConfig()
    {
        var c = base.GetConfig();
        c["activation"] = ConfigReader.Json(this, Activation);
        return c;
    }

    /// <summary>Rebuilds a layer from its <see cref="GetConfig"/>.</summary>
    public static SimpleRNN FromConfig(ConfigReader c) => new(c.Int("units"), c.Activation("activation", "tanh"), c.Bool("return_sequences", false));

    /// <inheritdoc/>
    protected override Tensor[] Step(Tensor projectedInput, Tensor[] states) => [Activation.Apply(projectedInput + Recurrent(states[0]))];
}

/// <summary>
/// Long short-term memory, PyTorch's formulation with gates i, f, g, o:
/// c' = f c + i g, h' = o tanh(c'). States (h, c); the forget gate's input bias starts at 1.
/// </summary>
public sealed class LSTM(int units, bool returnSequences = false, Initializer? kernelInitializer = null, Initializer? recurrentInitializer = null,
    int[]? inputShape = null, string? name = null) : RecurrentLayer(units, returnSequences, kernelInitializer, recurrentInitializer, inputShape, name)
{
    /// <inheritdoc/>
    protected override int Gates => 4;

    /// <inheritdoc/>
    protected override int StateCount => 2;

    /// <inheritdoc/>
    public override RecurrentLayer CloneSettings() => new LSTM(Units, ReturnSequences);

    /// <summary>Rebuilds a layer from its <see cref="RecurrentLayer.GetConfig"/>.</summary>
    public static LSTM FromConfig(ConfigReader c) => new(c.Int("units"), c.Bool("return_sequences", false));

    /// <inheritdoc/>
    protected override Tensor InitialInputBias()
    {
        var b = Tensor.Zeros(4 * Units);
        b.Storage.AsSpan(Units, Units).Fill(1f);
        return b;
    }

    /// <inheritdoc/>
    protected override (Tensor Output, Tensor[] States)? RunWhole(Tensor projected, Tensor[] states, Tensor? mask)
    {
        // Every step's hidden state and cell, [N, T, 2 * units], from one op forward and backward.
        Tensor hc = Tensor.LstmSequence(projected, BiasIh!.Value, WeightHh!.Value, BiasHh!.Value, states[0], states[1], mask);
        Tensor last = hc.Select(1, projected.Shape[1] - 1);
        Tensor[] final = [last.Slice(1, 0, Units), last.Slice(1, Units, 2 * Units)];
        return (ReturnSequences ? hc.Slice(2, 0, Units) : final[0], final);
    }

    /// <inheritdoc/>
    protected override Tensor[] Step(Tensor projectedInput, Tensor[] states)
    {
        // The gate nonlinearities and the cell update in one fused op.
        Tensor hc = Tensor.LstmCell(projectedInput + Recurrent(states[0]), states[1]);
        return [hc.Slice(1, 0, Units), hc.Slice(1, Units, 2 * Units)];
    }
}

/// <summary>
/// Gated recurrent unit, PyTorch's formulation with gates r, z, n and the reset gate applied
/// after the hidden product: n = tanh(x_n + r (h W_hn^T + b_hn)), h' = (1 - z) n + z h.
/// </summary>
public sealed class GRU(int units, bool returnSequences = false, Initializer? kernelInitializer = null, Initializer? recurrentInitializer = null,
    int[]? inputShape = null, string? name = null) : RecurrentLayer(units, returnSequences, kernelInitializer, recurrentInitializer, inputShape, name)
{
    /// <inheritdoc/>
    protected override int Gates => 3;

    /// <inheritdoc/>
    public override RecurrentLayer CloneSettings() => new GRU(Units, ReturnSequences);

    /// <summary>Rebuilds a layer from its <see cref="RecurrentLayer.GetConfig"/>.</summary>
    public static GRU FromConfig(ConfigReader c) => new(c.Int("units"), c.Bool("return_sequences", false));

    /// <inheritdoc/>
    protected override (Tensor Output, Tensor[] States)? RunWhole(Tensor projected, Tensor[] states, Tensor? mask)
    {
        // Every step's hidden state [N, T, units] from one op forward and backward.
        Tensor hs = Tensor.GruSequence(projected, BiasIh!.Value, WeightHh!.Value, BiasHh!.Value, states[0], mask);
        Tensor last = hs.Select(1, projected.Shape[1] - 1);
        return (ReturnSequences ? hs : last, [last]);
    }

    /// <inheritdoc/>
    protected override Tensor[] Step(Tensor projectedInput, Tensor[] states)
    {
        int u = Units;
        Tensor h = states[0];
        Tensor hp = Recurrent(h);
        Tensor r = (projectedInput.Slice(1, 0, u) + hp.Slice(1, 0, u)).Sigmoid();
        Tensor z = (projectedInput.Slice(1, u, 2 * u) + hp.Slice(1, u, 2 * u)).Sigmoid();
        Tensor candidate = (projectedInput.Slice(1, 2 * u, 3 * u) + r * hp.Slice(1, 2 * u, 3 * u)).Tanh();
        return [(1f - z) * candidate + z * h];
    }
}

/// <summary>
/// Runs a recurrent layer forwards and a copy of it backwards over the sequence and concatenates
/// their outputs on the last axis ([N, 2*units] or [N, T, 2*units]).
/// </summary>
public sealed class Bidirectional : Layer
{
    /// <summary>Wraps <paramref name="layer"/>; the backward copy has the same settings.</summary>
    public Bidirectional(RecurrentLayer layer, string? name = null) : base(name)
    {
        ArgumentNullException.ThrowIfNull(layer);
        Forwards = AddModule("forward_layer", layer);
        Backwards = AddModule("backward_layer", layer.CloneSettings());
    }

    /// <summary>The layer reading the sequence in order.</summary>
    public RecurrentLayer Forwards { get; }

    /// <summary>The layer reading the sequence reversed.</summary>
    public RecurrentLayer Backwards { get; }

    /// <inheritdoc/>
    protected override void Build(ReadOnlySpan<int> inputShape)
    {
        Forwards.EnsureBuilt(inputShape);
        Backwards.EnsureBuilt(inputShape);
    }

    /// <summary>
    /// PyTorch's names for a bidirectional layer's weights: <c>weight_ih_l0</c> for the forward
    /// direction's <c>forward_layer.weight_ih_l0</c>, <c>weight_ih_l0_reverse</c> for the backward
    /// direction's <c>backward_layer.weight_ih_l0</c>, and so on, so that the state dict of a PyTorch
    /// <c>nn.LSTM(bidirectional=True)</c> (or GRU, RNN) loads as it is.
    /// </summary>
    protected override IEnumerable<(string Alias, string Name)> StateDictAliases()
    {
        foreach (string name in Forwards.StateDict().Keys) yield return (name, "forward_layer." + name);
        foreach (string name in Backwards.StateDict().Keys) yield return (name + "_reverse", "backward_layer." + name);
    }

    /// <inheritdoc/>
    public override JsonObject GetConfig() => new() { ["layer"] = LayerCatalog.ToJson(Forwards) };

    /// <summary>Rebuilds a layer from its <see cref="GetConfig"/>.</summary>
    public static Bidirectional FromConfig(ConfigReader c) => new(c.Layer("layer") as RecurrentLayer
        ?? throw new InvalidDataException($"{c.What}: Bidirectional wraps a layer that is not recurrent."));

    /// <inheritdoc/>
    protected override Tensor Call(Tensor input) => Both(input, null);

    /// <summary>Runs both directions with a mask [N, T] of real steps.</summary>
    protected override Tensor Call(Tensor input, Tensor mask) => Both(input, mask);

    private Tensor Both(Tensor input, Tensor? mask)
    {
        if (input.Rank != 3) throw new ArgumentException($"{Label} expects inputs [N, T, features], but got shape {input.ShapeString}.");
        int t = input.Shape[1];
        Tensor reversed = Tensor.FromArray(Enumerable.Range(0, t).Reverse().Select(i => (float)i).ToArray());
        Tensor ahead = Forwards.Forward(input, mask);
        Tensor behind = Backwards.Forward(input.IndexSelect(1, reversed), mask?.IndexSelect(1, reversed));
        if (Forwards.ReturnSequences) behind = behind.IndexSelect(1, reversed);
        return Tensor.Concat([ahead, behind], -1);
    }
}
