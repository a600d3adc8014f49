using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Text;
using Nabla.Layers;
using Nabla.Optimizers;

namespace Nabla.Distributed;

/// <summary>
/// Data-parallel training of one module over the ranks of an <see cref="ICommunicator"/>, as
/// PyTorch's DistributedDataParallel: every rank holds the same parameters, computes gradients on
/// its own part of the batch, and the gradients are summed across ranks in buckets while backward
/// is still running, so that every rank then takes the same optimizer step.
/// <code>
/// var ddp = new DataParallel(model, MpiCommunicator.World, optimizer); // rank 0's parameters, buffers and optimizer state
/// ...
/// optimizer.ZeroGrad();
/// ddp.Backward(loss);                         // gradients averaged over the ranks
/// optimizer.Step();
/// </code>
/// <c>Model.Fit(..., distributed: communicator)</c> does all of this itself.
/// </summary>
public sealed class DataParallel
{
    /// <summary>The default bucket size: 256 Ki floats (1 MiB), or <c>NABLA_DDP_BUCKET_FLOATS</c> when set (as DDP's bucket_cap_mb).</summary>
    public static int DefaultBucketFloats { get; } =
        int.TryParse(Environment.GetEnvironmentVariable("NABLA_DDP_BUCKET_FLOATS"), out int n) && n >= 1 ? n : 1 << 18;

    private readonly Parameter[] _parameters;
    private readonly Bucket[] _buckets;
    private readonly Dictionary<Tensor, (Bucket Bucket, int Member)> _slots = new(ReferenceEqualityComparer.Instance);
    private readonly Tensor[] _buffers;
    private readonly Action<Tensor> _onReady;
    private bool _zero;
    private int _bufferRoot;
    private bool _armed;
    private int _nextToStart;

    /// <summary>
    /// Wraps <paramref name="module"/> (built: its parameters exist) and makes every rank's
    /// parameters and buffers rank 0's (<see cref="Synchronize"/>).
    /// </summary>
    /// <param name="module">The module every rank trains.</param>
    /// <param name="communicator">The ranks.</param>
    /// <param name="optimizer">The optimizer, whose state and step count are made rank 0's too (when resuming).</param>
    /// <param name="bucketFloats">The most floats summed in one reduction; smaller buckets start sooner during backward.</param>
    public DataParallel(Module module, ICommunicator communicator, Optimizer? optimizer = null, int? bucketFloats = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(communicator);
        int cap = bucketFloats ?? DefaultBucketFloats;
        ArgumentOutOfRangeException.ThrowIfLessThan(cap, 1);
        Module = module;
        Communicator = communicator;
        _parameters = [.. module.Parameters().Where(p => p.Trainable)];
        _onReady = OnGradReady;
        // Backward reaches the last layers first: buckets are filled from the last parameter back.
        var buckets = new List<Bucket>();
        var members = new List<(Parameter, int)>();
        int size = 0;
        for (int i = _parameters.Length - 1; i >= 0; i--)
        {
            int n = _parameters[i].Value.Size;
            if (size > 0 && size + (long)n > cap)
            {
                buckets.Add(new Bucket([.. members], size));
                members.Clear();
                size = 0;
            }
            members.Add((_parameters[i], size));
            size += n;
        }
        if (members.Count > 0) buckets.Add(new Bucket([.. members], size));
        _buckets = [.. buckets];
        foreach (var b in _buckets)
        {
            for (int m = 0; m < b.Members.Length; m++) _slots[b.Members[m].Parameter.Value] = (b, m);
        }
        _buffers = [.. module.NamedBuffers().Select(b => b.Buffer)];
        Overlap = Environment.GetEnvironmentVariable("NABLA_DDP_OVERLAP") switch
        {
            "1" => true,
            "0" => false,
            _ => Environment.ProcessorCount >= communicator.LocalSize * (Kernels.Threading.NumThreads + 1),
        };
        Synchronize(optimizer);
    }

    /// <summary>The module being trained.</summary>
    public Module Module { get; }

    /// <summary>The ranks.</summary>
    public ICommunicator Communicator { get; }

    /// <summary>
    /// Whether a bucket's reduction starts as soon as backward has finished its gradients (and runs
    /// on the communicator's thread while backward goes on) rather than after backward. It pays only
    /// when that thread has a core of its own: by default, when the machine has at least
    /// (kernel threads + 1) cores per rank on it; <c>NABLA_DDP_OVERLAP=1</c> or <c>0</c> decides
    /// instead. Measured with 2 ranks x 1 thread on 2 cores
    /// (cnn-train): 2 360-2 750 samples/s overlapped, 3 140-3 300 not, the reducing thread's
    /// waiting competing with backward for the cores.
    /// </summary>
    public bool Overlap { get; set; }

    /// <summary>How the gradients are grouped: the number of floats of each bucket, in the order they are reduced.</summary>
    public IReadOnlyList<int> BucketSizes => [.. _buckets.Select(b => b.Size)];

    /// <summary>
    /// Makes every rank's parameters and buffers those of rank 0 (and, given, its optimizer's state
    /// and step count), then checks a checksum of the parameters on every rank. A rank whose model
    /// has other parameter names or shapes fails with an error naming it.
    /// </summary>
    public void Synchronize(Optimizer? optimizer = null)
    {
        var comm = Communicator;
        string layout = string.Join(";", Module.NamedParameters().Select(p => $"{p.Name}:{p.Parameter.Value.ShapeString}")
            .Concat(Module.NamedBuffers().Select(b => $"{b.Name}:{b.Buffer.ShapeString}")));
        ulong layoutHash = Hash(Encoding.UTF8.GetBytes(layout));
        ulong root = BroadcastUInt64(layoutHash);
        if (root != layoutHash)
            throw new InvalidOperationException($"DataParallel: rank {comm.Rank}'s model differs from rank 0's (parameter names and shapes: {Truncate(layout)}); every rank must build the same model.");
        foreach (var t in Module.Parameters().Select(p => p.Value).Concat(_buffers)) BroadcastTensor(t);
        if (optimizer is not null) BroadcastOptimizer(optimizer);
        ulong sum = ParameterChecksum();
        if (BroadcastUInt64(sum) != sum)
            throw new InvalidOperationException($"DataParallel: rank {comm.Rank}'s parameters differ from rank 0's after the broadcast (checksum {sum:x16}).");
    }

    /// <summary>A checksum of the bits of every parameter and buffer (equal on every rank after <see cref="Synchronize"/> and after each step).</summary>
    public ulong ParameterChecksum()
    {
        ulong h = 14695981039346656037UL;
        foreach (var t in Module.Parameters().Select(p => p.Value).Concat(Module.NamedBuffers().Select(b => b.Buffer)))
        {
            var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.Contiguous().Data);
            h = Hash(bytes, h);
        }
        return h;
    }

    /// <summary>
    /// Runs <c>loss.Backward()</c> with the gradients summed over the ranks, each rank's scaled by
    /// <paramref name="weight"/> (default 1 / Size: the mean of equal shards; Fit passes this rank's
    /// share of the global batch). On return every parameter's <see cref="Parameter.Grad"/> holds
    /// the same sum on every rank.
    /// </summary>
    public void Backward(Tensor loss, float? weight = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        BeginGradients(weight ?? 1f / Communicator.Size);
        try
        {
            loss.Backward();
        }
        catch
        {
            Disarm();
            throw;
        }
        FinishGradients();
    }

    /// <summary>Takes part in a step without data (a rank whose share of a short last batch is empty): contributes zero gradients and receives the others' sum.</summary>
    /// <param name="bufferRoot">A rank that had data, whose buffers every rank takes.</param>
    public void BackwardWithoutData(int bufferRoot)
    {
        BeginGradients(0f, bufferRoot);
        FinishGradients();
    }

    /// <summary>
    /// Arms the gradient hooks: from now, each parameter's gradient joins its bucket as backward
    /// completes it. This thread's next backward from a scalar is seeded with <paramref name="weight"/>
    /// instead of 1 (the same as multiplying the loss by it), so gradients arrive already scaled.
    /// </summary>
    /// <param name="weight">This rank's factor on its gradients.</param>
    /// <param name="bufferRoot">The rank whose buffers (batch-norm statistics) every rank takes after the step: one that had data.</param>
    internal void BeginGradients(float weight, int bufferRoot = 0)
    {
        if (_armed) FinishGradients();
        _zero = weight == 0f;
        _bufferRoot = bufferRoot;
        _nextToStart = 0;
        foreach (var b in _buckets) b.Reset();
        foreach (var p in _parameters) p.Value.GradReadyHook = _onReady;
        Autograd.Engine.t_seedScale = weight == 1f ? null : weight;
        _armed = true;
    }

    /// <summary>True between <see cref="BeginGradients"/> and <see cref="FinishGradients"/>.</summary>
    internal bool IsArmed => _armed;

    private void Disarm()
    {
        foreach (var p in _parameters) p.Value.GradReadyHook = null;
        Autograd.Engine.t_seedScale = null;
        _armed = false;
    }

    private void OnGradReady(Tensor value)
    {
        if (!_armed || !_slots.TryGetValue(value, out var slot) || slot.Bucket.IsFilled(slot.Member)) return;
        Fill(slot.Bucket, slot.Member, value);
        if (Overlap) StartReadyBuckets();
    }

    // A bucket of one parameter is reduced where the gradient lies (no copy either way); the
    // gradients of a bucket of several are copied into its buffer.
    private void Fill(Bucket bucket, int member, Tensor value)
    {
        int offset = bucket.Members[member].Offset;
        Tensor? grad = value.Grad;
        if (bucket.Members.Length == 1 && grad is not null && grad.IsContiguous && Shapes.Equal(grad.Shape, value.Shape))
        {
            if (_zero) grad.Storage.AsSpan(grad.Offset, grad.Size).Clear();
            bucket.Target = (grad.Storage, grad.Offset);
        }
        else
        {
            var dst = bucket.Buffer.AsSpan(offset, value.Size);
            if (grad is null || _zero) dst.Clear();
            else grad.Contiguous().Data.CopyTo(dst);
            bucket.Target = (bucket.Buffer, 0);
        }
        bucket.MarkFilled(member);
    }

    // Buckets start strictly in order, so every rank issues the same reductions in the same order.
    private void StartReadyBuckets()
    {
        while (_nextToStart < _buckets.Length && _buckets[_nextToStart].Complete)
        {
            var b = _buckets[_nextToStart++];
            if (Overlap) b.Pending = Communicator.StartAllReduceSum(b.Target.Array, b.Target.Offset, b.Size);
            else Communicator.AllReduceSum(b.Target.Array.AsSpan(b.Target.Offset, b.Size));
        }
        // Let the transport move the started ones along while backward goes on.
        for (int i = 0; i < _nextToStart; i++) _buckets[i].Pending?.Test();
    }

    /// <summary>
    /// Completes the step's reduction: parameters that backward did not reach contribute zeros, the
    /// remaining buckets start, all are waited for, and the sums are written to each parameter's
    /// gradient. Buffers (such as batch-norm statistics) are then made those of one rank (rank 0,
    /// or in a step where some ranks had no data, the last rank).
    /// </summary>
    internal void FinishGradients()
    {
        if (!_armed) return;
        foreach (var b in _buckets)
        {
            for (int m = 0; m < b.Members.Length; m++)
            {
                if (!b.IsFilled(m)) Fill(b, m, b.Members[m].Parameter.Value);
            }
        }
        StartReadyBuckets();
        Disarm();
        foreach (var b in _buckets)
        {
            b.Pending?.Wait();
            b.Pending = null;
            if (!ReferenceEquals(b.Target.Array, b.Buffer)) continue; // reduced in place
            foreach (var (p, offset) in b.Members)
            {
                var sum = b.Buffer.AsSpan(offset, p.Value.Size);
                Tensor? grad = p.Value.Grad;
                if (grad is null || !grad.IsContiguous || !Shapes.Equal(grad.Shape, p.Value.Shape))
                {
                    grad = new Tensor((int[])p.Value.ShapeArray.Clone());
                    p.Value.Grad = grad;
                }
                sum.CopyTo(grad.Storage.AsSpan(grad.Offset, grad.Size));
            }
        }
        BroadcastBuffers(_bufferRoot);
    }

    private float[] _bufferPack = [];

    /// <summary>Every buffer (batch-norm statistics) becomes rank <paramref name="root"/>'s, in one broadcast.</summary>
    private void BroadcastBuffers(int root)
    {
        if (Communicator.Size == 1) return;
        if (_buffers.Length == 0) return;
        int total = _buffers.Sum(b => b.Size);
        if (_bufferPack.Length != total) _bufferPack = new float[total];
        int at = 0;
        foreach (var b in _buffers)
        {
            b.Contiguous().Data.CopyTo(_bufferPack.AsSpan(at));
            at += b.Size;
        }
        Communicator.Broadcast(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_bufferPack.AsSpan()), root);
        at = 0;
        foreach (var b in _buffers)
        {
            if (!b.IsContiguous) throw new InvalidOperationException($"DataParallel: cannot update a non-contiguous buffer {b.ShapeString}.");
            _bufferPack.AsSpan(at, b.Size).CopyTo(b.Storage.AsSpan(b.Offset, b.Size));
            at += b.Size;
        }
    }

    private void BroadcastTensor(Tensor t)
    {
        if (Communicator.Size == 1) return;
        if (!t.IsContiguous) throw new InvalidOperationException($"DataParallel: cannot broadcast a non-contiguous tensor {t.ShapeString}.");
        var span = t.Storage.AsSpan(t.Offset, t.Size);
        Communicator.Broadcast(System.Runtime.InteropServices.MemoryMarshal.AsBytes(span), 0);
    }

    private ulong BroadcastUInt64(ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        Communicator.Broadcast(bytes, 0);
        return BinaryPrimitives.ReadUInt64LittleEndian(bytes);
    }

    private void BroadcastOptimizer(Optimizer optimizer)
    {
        var (iterations, buffers) = optimizer.GetState();
        // Rank 0's layout first (which parameters have state), then the numbers.
        byte[] header = new byte[4 + 4 * buffers.Length];
        BinaryPrimitives.WriteInt32LittleEndian(header, iterations);
        for (int i = 0; i < buffers.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4 + 4 * i), buffers[i].Length);
        if (BroadcastUInt64((ulong)header.Length) != (ulong)header.Length)
            throw new InvalidOperationException($"DataParallel: rank {Communicator.Rank}'s optimizer has {buffers.Length} parameters, rank 0's another number.");
        Communicator.Broadcast(header, 0);
        iterations = BinaryPrimitives.ReadInt32LittleEndian(header);
        for (int i = 0; i < buffers.Length; i++)
        {
            int slots = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(4 + 4 * i));
            if (slots == 0) { buffers[i] = []; continue; }
            int size = optimizer.Parameters[i].Value.Size;
            if (buffers[i].Length != slots) buffers[i] = [.. Enumerable.Range(0, slots).Select(_ => new float[size])];
            foreach (var slot in buffers[i]) Communicator.Broadcast(System.Runtime.InteropServices.MemoryMarshal.AsBytes(slot.AsSpan()), 0);
        }
        optimizer.SetState(iterations, buffers);
    }

    // FNV-style over 8-byte words, then the tail bytes: a checksum, not a cryptographic hash.
    private static ulong Hash(ReadOnlySpan<byte> bytes, ulong h = 14695981039346656037UL)
    {
        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(bytes);
        foreach (ulong w in words) h = (h ^ w) * 1099511628211UL;
        foreach (byte b in bytes[(words.Length * 8)..]) h = (h ^ b) * 1099511628211UL;
        return h;
    }

    private static string Truncate(string s) => s.Length <= 300 ? s : s[..300] + "...";

    private sealed class Bucket((Parameter Parameter, int Offset)[] members, int size)
    {
        private readonly bool[] _filled = new bool[members.Length];
        private int _count;

        public (Parameter Parameter, int Offset)[] Members { get; } = members;

        public int Size => size;

        public float[] Buffer => field ??= new float[size];

        /// <summary>Where this step's gradients of the bucket lie: its buffer, or the one parameter's gradient storage.</summary>
        public (float[] Array, int Offset) Target { get; set; }

        public IPendingReduction? Pending { get; set; }

        public bool Complete => _count == _filled.Length;

        public bool IsFilled(int member) => _filled[member];

        public void MarkFilled(int member)
        {
            _filled[member] = true;
            _count++;
        }

        public void Reset()
        {
            Array.Clear(_filled);
            _count = 0;
        }
    }
}
