using Nabla.Autograd;

namespace Nabla;

/// <summary>
/// An n-dimensional array of float32 values, row-major, that can record the operations
/// applied to it and compute gradients backwards through them (reverse-mode automatic
/// differentiation, define-by-run as in PyTorch).
/// </summary>
/// <remarks>
/// A tensor is a view: storage, an offset and per-dimension strides. Reshape of a contiguous
/// tensor, <see cref="Transpose"/>, <see cref="Permute"/>, <see cref="Slice"/> and
/// <see cref="Expand"/> share storage; every other op returns a new contiguous tensor.
/// Tensors live in managed memory; nothing needs to be disposed.
/// </remarks>
public sealed partial class Tensor
{
    internal readonly float[] Storage;
    internal readonly int Offset;
    internal readonly int[] ShapeArray;
    internal readonly int[] Strides;
    private bool _requiresGrad;

    // Scratch state used only while Backward walks the graph.
    internal int VisitStamp;
    internal Tensor? PendingGrad;
    // True when PendingGrad is a buffer the engine made for this tensor alone (so it may add into it).
    internal bool PendingOwned;
    // Called by backward once this leaf's gradient for the pass is complete (data-parallel training
    // starts reducing it then, while backward goes on: PyTorch's post-accumulate-grad hook).
    internal Action<Tensor>? GradReadyHook;

    internal Tensor(float[] storage, int offset, int[] shape, int[] strides)
    {
        Storage = storage;
        Offset = offset;
        ShapeArray = shape;
        Strides = strides;
        Size = Shapes.Size(shape);
    }

    /// <summary>A new contiguous tensor of the given shape over zeroed storage (reused from a finished backward pass when one of that size is free).</summary>
    internal Tensor(int[] shape) : this(shape, clear: true)
    {
    }

    /// <summary>A new contiguous tensor of the given shape; unless <paramref name="clear"/>, storage reused from the pool keeps stale values (for ops that write every element).</summary>
    private Tensor(int[] shape, bool clear) : this(Autograd.StoragePool.Rent(Shapes.Size(shape), clear), 0, shape, Shapes.ContiguousStrides(shape))
    {
        OwnsStorage = true;
    }

    /// <summary>A new contiguous tensor whose elements are undefined until written: for ops whose kernel writes every element.</summary>
    internal static Tensor ForOverwrite(int[] shape) => new(shape, clear: false);

    /// <summary>True when the storage was made for this tensor (not a view of another's, nor wrapped from an array).</summary>
    internal readonly bool OwnsStorage;

    /// <summary>A new contiguous tensor over existing storage (not copied).</summary>
    internal Tensor(float[] storage, int[] shape) : this(storage, 0, shape, Shapes.ContiguousStrides(shape))
    {
    }

    /// <summary>The size of each dimension.</summary>
    public ReadOnlySpan<int> Shape => ShapeArray;

    /// <summary>The number of dimensions (0 for a scalar).</summary>
    public int Rank => ShapeArray.Length;

    /// <summary>The number of elements.</summary>
    public int Size { get; }

    /// <summary>The size of one dimension; negative axes count from the end.</summary>
    public int Dim(int axis) => ShapeArray[Shapes.NormalizeAxis(axis, Rank, "Dim")];

    /// <summary>The shape formatted as <c>[2, 3]</c>, for messages.</summary>
    public string ShapeString => Shapes.Format(ShapeArray);

    /// <summary>
    /// Whether operations on this tensor are recorded so gradients can flow back to it. Only a
    /// leaf (a tensor not produced by a recorded op) can have this switched.
    /// </summary>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (!value && GradFn is not null)
                throw new InvalidOperationException($"RequiresGrad cannot be turned off on a tensor produced by {GradFn.Name}; use Detach() instead.");
            _requiresGrad = value;
        }
    }

    /// <summary>The accumulated gradient of a leaf after <see cref="Backward(bool)"/>; null until then.</summary>
    public Tensor? Grad
    {
        get
        {
            if (_gradZeroPending) ClearPendingGrad();
            return _grad;
        }
        set
        {
            _grad = value;
            _gradZeroPending = false;
        }
    }

    private Tensor? _grad;

    // Set by ZeroGrad(setToNone: false): the kept buffer reads as zeros, but is only cleared when
    // read; a backward pass that brings a gradient overwrites it instead (one pass, not two).
    private bool _gradZeroPending;

    private void ClearPendingGrad()
    {
        _gradZeroPending = false;
        _grad!.Storage.AsSpan(_grad.Offset, _grad.Size).Clear();
    }

    /// <summary>
    /// Adds <paramref name="g"/> (this tensor's shape) into <see cref="Grad"/>: a copy the leaf owns
    /// when there is none, a sum into the kept buffer when it is contiguous (an overwrite when it is
    /// pending zero), else a new sum.
    /// </summary>
    internal void AccumulateGrad(Tensor g)
    {
        if (_grad is null)
        {
            Grad = g.ContiguousCopy();
            return;
        }
        Tensor grad = _grad;
        if (!Shapes.Equal(grad.Shape, Shape) || !grad.IsContiguous)
        {
            Grad = Grad! + g;
            return;
        }
        var dst = grad.Storage.AsSpan(grad.Offset, grad.Size);
        if (_gradZeroPending)
        {
            _gradZeroPending = false;
            g.Data.CopyTo(dst);
            return;
        }
        System.Numerics.Tensors.TensorPrimitives.Add(dst, g.Data, dst);
    }

    /// <summary>
    /// For a gradient rule that can write a leaf's gradient in place: when this is a leaf whose
    /// kept <see cref="Grad"/> buffer is pending zero (after <c>ZeroGrad(setToNone: false)</c>),
    /// contiguous and of this shape, returns that buffer, now counted as written, so the rule
    /// computes the gradient straight into it and returns null for this input (one pass over the
    /// gradient instead of a fresh one copied in). Else null, and the rule returns its gradient as
    /// usual. A second use of the same leaf in the graph then finds it written and accumulates.
    /// </summary>
    internal float[]? TakeGradBuffer()
    {
        if (!_gradZeroPending || GradFn is not null || !_requiresGrad || AnomalyMode.IsEnabled) return null;
        Tensor grad = _grad!;
        if (grad.Offset != 0 || !grad.IsContiguous || !Shapes.Equal(grad.Shape, Shape)) return null;
        _gradZeroPending = false;
        return grad.Storage;
    }

    /// <summary>The node that produced this tensor in the recorded graph (null for leaves).</summary>
    public Node? GradFn { get; private set; }

    /// <summary>True for tensors created by the user rather than by a recorded op.</summary>
    public bool IsLeaf => GradFn is null;

    /// <summary>True when the elements are laid out row-major with no gaps, starting at the offset.</summary>
    public bool IsContiguous
    {
        get
        {
            int expected = 1;
            for (int i = Rank - 1; i >= 0; i--)
            {
                if (ShapeArray[i] != 1 && Strides[i] != expected) return false;
                expected *= ShapeArray[i];
            }
            return true;
        }
    }

    /// <summary>Makes this tensor a leaf that requires grad; returns it, for chaining.</summary>
    public Tensor RequireGrad()
    {
        RequiresGrad = true;
        return this;
    }

    /// <summary>
    /// Clears the gradient: sets <see cref="Grad"/> to null (the default, as PyTorch's
    /// zero_grad(set_to_none=True)), or with <paramref name="setToNone"/> false fills the existing
    /// gradient with zeros, so the next backward adds into the same buffer instead of allocating one.
    /// </summary>
    public void ZeroGrad(bool setToNone = true)
    {
        if (!setToNone && _grad is { IsContiguous: true } g && Shapes.Equal(g.Shape, Shape)) _gradZeroPending = true;
        else Grad = null;
    }

    /// <summary>A view of the same storage that is cut off from the graph and does not require grad.</summary>
    public Tensor Detach() => new(Storage, Offset, ShapeArray, Strides);

    /// <summary>
    /// Attaches <paramref name="node"/> as the producer of this freshly made tensor when grad
    /// mode is on and some input requires grad; returns this tensor. Every op ends with it.
    /// </summary>
    internal Tensor Record(Node node)
    {
        GradFn = node;
        _requiresGrad = true;
        StoragePool.NoteRecorded(this);
        if (AnomalyMode.IsEnabled) AnomalyMode.CheckForward(this, node);
        return this;
    }

    /// <summary>True when an op over these inputs should record a node.</summary>
    internal static bool ShouldRecord(Tensor a) => GradMode.IsEnabled && a._requiresGrad;

    /// <inheritdoc cref="ShouldRecord(Tensor)"/>
    internal static bool ShouldRecord(Tensor a, Tensor b) => GradMode.IsEnabled && (a._requiresGrad || b._requiresGrad);

    /// <inheritdoc cref="ShouldRecord(Tensor)"/>
    internal static bool ShouldRecord(IReadOnlyList<Tensor> inputs)
    {
        if (!GradMode.IsEnabled) return false;
        foreach (var t in inputs)
        {
            if (t._requiresGrad) return true;
        }
        return false;
    }

    /// <summary>
    /// The elements in row-major order: the storage itself when contiguous, else a copy.
    /// Never records a graph node.
    /// </summary>
    internal ReadOnlySpan<float> Data => IsContiguous ? Storage.AsSpan(Offset, Size) : ContiguousCopy().Storage;

    /// <summary>A contiguous copy with fresh storage, not recorded.</summary>
    internal Tensor ContiguousCopy() => ContiguousCopy((int[])ShapeArray.Clone());

    /// <summary>
    /// A contiguous copy with fresh storage, not recorded, in <paramref name="shape"/> (of the same
    /// size; the elements in row-major order): a reshape that must copy makes its result the
    /// owner of the copy, so that a step scope recycles it with the other recorded tensors.
    /// </summary>
    private Tensor ContiguousCopy(int[] shape)
    {
        // Every element is written, so the new storage need not be cleared first.
        var result = ForOverwrite(shape);
        int[] dstStrides = Shapes.ContiguousStrides(ShapeArray);
        if (!WorthSharing(Size, CheapGrain) || Rank < 2 || ShapeArray[0] < 2)
            Kernels.Strided.Copy(Storage, Offset, Strides, result.Storage, 0, dstStrides, ShapeArray);
        else CopyInParts(result.Storage, dstStrides);
        return result;
    }

    /// <summary>The copy split over the threads by ranges of the first axis (each element copied once: the same result for any split).</summary>
    private void CopyInParts(float[] destination, int[] dstStrides) =>
        ForRows(ShapeArray[0], Size / ShapeArray[0], (r0, r1) =>
        {
            int[] part = (int[])ShapeArray.Clone();
            part[0] = r1 - r0;
            Kernels.Strided.Copy(Storage, Offset + r0 * Strides[0], Strides, destination, r0 * dstStrides[0], dstStrides, part);
        });

    /// <summary>Strides of this tensor when broadcast to <paramref name="shape"/> (0 along broadcast dimensions).</summary>
    internal int[] BroadcastStrides(ReadOnlySpan<int> shape)
    {
        var s = new int[shape.Length];
        int lead = shape.Length - Rank;
        for (int i = 0; i < Rank; i++)
        {
            s[lead + i] = ShapeArray[i] == 1 && shape[lead + i] != 1 ? 0 : Strides[i];
        }
        return s;
    }

    /// <summary>Copies the elements, row-major, into a new array.</summary>
    public float[] ToArray() => Data.ToArray();

    /// <summary>Copies the elements, row-major, into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<float> destination)
    {
        if (destination.Length < Size)
            throw new ArgumentException($"CopyTo: destination holds {destination.Length} values but the tensor {ShapeString} has {Size}.");
        Data.CopyTo(destination);
    }

    /// <summary>The value of a one-element tensor.</summary>
    public float Item()
    {
        if (Size != 1) throw new InvalidOperationException($"Item() needs a tensor with one element, not shape {ShapeString}.");
        return Storage[Offset];
    }

    /// <summary>The element at a full index (one entry per dimension; negative entries count from the end).</summary>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public float this[params int[] index]
    {
        get => Storage[StorageIndex(index)];
    }

    /// <summary>Storage position of a full index, validated.</summary>
    internal int StorageIndex(ReadOnlySpan<int> index)
    {
        if (index.Length != Rank)
            throw new ArgumentException($"Index has {index.Length} entries but the tensor {ShapeString} has rank {Rank}.");
        int pos = Offset;
        for (int i = 0; i < Rank; i++)
        {
            int k = index[i] < 0 ? index[i] + ShapeArray[i] : index[i];
            if (k < 0 || k >= ShapeArray[i])
                throw new IndexOutOfRangeException($"Index {index[i]} is out of range for dimension {i} of size {ShapeArray[i]} (shape {ShapeString}).");
            pos += k * Strides[i];
        }
        return pos;
    }

    /// <summary>Storage position of the flat (row-major) element number <paramref name="flat"/>.</summary>
    internal int StorageIndexOfFlat(int flat)
    {
        int pos = Offset;
        for (int i = Rank - 1; i >= 0; i--)
        {
            int d = ShapeArray[i];
            pos += flat % d * Strides[i];
            flat /= d;
        }
        return pos;
    }

    /// <summary>
    /// Computes gradients of this scalar with respect to every leaf that requires grad,
    /// accumulating them into <see cref="Grad"/>, then releases the graph.
    /// </summary>
    public void Backward(bool retainGraph = false)
    {
        if (Size != 1)
            throw new InvalidOperationException($"Backward() without a gradient needs a scalar, but this tensor has shape {ShapeString}; pass the upstream gradient explicitly.");
        Engine.Backward(this, Engine.t_seedScale is float scale ? Full(ShapeArray, scale) : Ones(ShapeArray), retainGraph);
    }

    /// <summary>
    /// Computes vector-Jacobian products: gradients of <c>sum(this * gradient)</c> with respect to
    /// every leaf that requires grad. <paramref name="gradient"/> must have this tensor's shape.
    /// </summary>
    public void Backward(Tensor gradient, bool retainGraph = false)
    {
        ArgumentNullException.ThrowIfNull(gradient);
        if (!Shapes.Equal(gradient.Shape, Shape))
            throw new ArgumentException($"Backward: the gradient has shape {gradient.ShapeString} but the tensor has shape {ShapeString}.");
        Engine.Backward(this, gradient, retainGraph);
    }

    /// <summary>
    /// Starts a scope in which no op is recorded (inference, weight updates):
    /// <c>using (Tensor.NoGrad()) { ... }</c>.
    /// </summary>
    public static NoGradScope NoGrad() => new();

    /// <summary>
    /// Starts a training step whose activations are recycled when it ends:
    /// <c>using (Tensor.StepScope()) { loss = ...; loss.Backward(); optimizer.Step(); value = loss.Item(); }</c>.
    /// Tensors made by recorded ops inside are valid only until the scope ends (see <see cref="Autograd.StepScope"/>).
    /// </summary>
    public static StepScope StepScope() => new();
}
