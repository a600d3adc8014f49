namespace Nabla.Autograd;

/// <summary>
/// One recorded operation in the graph: it knows its inputs, keeps only the tensors its
/// gradient rule reads, and maps the gradient of its output to gradients of its inputs.
/// Subclasses are named like PyTorch's grad_fn (<c>MulBackward</c>, <c>SigmoidBackward</c>),
/// so an error in backward can name the op that caused it.
/// </summary>
public abstract class Node
{
    private Tensor[] _inputs;
    private Tensor[] _saved;

    /// <summary>Records a node over its inputs and the tensors its rule needs later.</summary>
    protected Node(Tensor[] inputs, params Tensor[] saved)
    {
        _inputs = inputs;
        _saved = saved;
        if (AnomalyMode.IsEnabled)
        {
            Layer = AnomalyMode.CurrentLayer;
            Step = AnomalyMode.CurrentStep;
        }
    }

    /// <summary>The layer that ran this op, recorded while <see cref="AnomalyMode"/> is on.</summary>
    public string? Layer { get; }

    /// <summary>The training step that ran this op, recorded while <see cref="AnomalyMode"/> is on.</summary>
    public string? Step { get; }

    /// <summary>The op's name, e.g. <c>MatMulBackward</c>.</summary>
    public virtual string Name => GetType().Name;

    /// <summary>True after a backward pass has freed this node's saved tensors.</summary>
    public bool IsReleased { get; private set; }

    /// <summary>The op's inputs, in order.</summary>
    internal IReadOnlyList<Tensor> Inputs => _inputs;

    /// <summary>The tensors saved for the gradient rule, in the order given at construction.</summary>
    protected IReadOnlyList<Tensor> Saved => _saved;

    /// <summary>Input <paramref name="i"/>, for rules that read the op's inputs.</summary>
    protected Tensor Input(int i) => _inputs[i];

    /// <summary>Whether input <paramref name="i"/> needs a gradient; rules may skip the others.</summary>
    protected bool NeedsGrad(int i) => _inputs[i].RequiresGrad;

    /// <summary>
    /// The gradient rule: given the gradient of the output, returns one gradient per input
    /// (null where the input needs none), each of that input's shape. Runs with grad mode off.
    /// </summary>
    protected internal abstract Tensor?[] Backward(Tensor grad);

    /// <summary>
    /// True for ops whose gradient touches only part of their single input (slices): the engine
    /// then calls <see cref="AccumulateInto"/> instead of <see cref="Backward"/>, so that T slices
    /// of one tensor do not cost T full-size gradients.
    /// </summary>
    protected internal virtual bool AccumulatesInPlace => false;

    /// <summary>
    /// Adds <paramref name="grad"/> straight into <paramref name="target"/>, a gradient buffer of
    /// the input's shape (zeros or partly summed) that the engine owns. Only called when
    /// <see cref="AccumulatesInPlace"/> is true.
    /// </summary>
    protected internal virtual void AccumulateInto(Tensor target, Tensor grad) => throw new NotSupportedException($"{Name} does not accumulate in place.");

    /// <summary>Frees the saved tensors and the links to the inputs, so the graph can be collected.</summary>
    internal void Release()
    {
        IsReleased = true;
        _inputs = [];
        _saved = [];
        if (_float0 is not null) Kernels.BufferPool.Return(_float0);
        if (_int0 is not null) Kernels.BufferPool.Return(_int0);
        foreach (float[] b in _moreFloats ?? []) Kernels.BufferPool.Return(b);
        foreach (int[] b in _moreInts ?? []) Kernels.BufferPool.Return(b);
        (_float0, _int0, _moreFloats, _moreInts) = (null, null, null, null);
    }

    // The first kept buffer of each kind in a field, the rest in a list: most nodes keep one, and a
    // list for it would be one more allocation per op and step.
    private float[]? _float0;
    private int[]? _int0;
    private List<float[]>? _moreFloats;
    private List<int[]>? _moreInts;

    /// <summary>
    /// Keeps a scratch buffer rented from Kernels.BufferPool for the gradient rule; it goes back
    /// to the pool when the graph is freed. Returns the buffer.
    /// </summary>
    protected float[] Keep(float[] pooled)
    {
        if (_float0 is null) _float0 = pooled;
        else (_moreFloats ??= []).Add(pooled);
        return pooled;
    }

    /// <inheritdoc cref="Keep(float[])"/>
    protected int[] Keep(int[] pooled)
    {
        if (_int0 is null) _int0 = pooled;
        else (_moreInts ??= []).Add(pooled);
        return pooled;
    }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
