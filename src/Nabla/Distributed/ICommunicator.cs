using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace Nabla.Distributed;

/// <summary>
/// The collectives data-parallel training needs from a group of processes (ranks 0 .. Size-1),
/// each running the same program. The core library defines only this contract; the MPI
/// implementation lives in the satellite assembly Nabla.Distributed (<c>MpiCommunicator</c>),
/// so the core keeps no native dependency. Every rank must call the same collectives in the same
/// order with the same lengths.
/// </summary>
public interface ICommunicator
{
    /// <summary>This process's rank, 0 .. <see cref="Size"/> - 1.</summary>
    int Rank { get; }

    /// <summary>Number of ranks.</summary>
    int Size { get; }

    /// <summary>How many of the ranks run on this machine (sharing its cores).</summary>
    int LocalSize { get; }

    /// <summary>A one-line description of the transport (for MPI, the library and its version).</summary>
    string Description { get; }

    /// <summary>
    /// Sums <paramref name="values"/> over the ranks in place. The sum is taken in rank order
    /// (((v0 + v1) + v2) ...) element by element, and every rank receives the same bits.
    /// </summary>
    void AllReduceSum(Span<float> values);

    /// <summary>As <see cref="AllReduceSum(Span{float})"/> in double precision (metric totals).</summary>
    void AllReduceSum(Span<double> values);

    /// <summary>
    /// Starts summing <paramref name="count"/> values of <paramref name="buffer"/> from
    /// <paramref name="offset"/> as <see cref="AllReduceSum(Span{float})"/> does, returning at
    /// once so that computation can go on meanwhile; the buffer must not be touched until
    /// <see cref="IPendingReduction.Wait"/> returns. Reductions complete in the order they start.
    /// </summary>
    IPendingReduction StartAllReduceSum(float[] buffer, int offset, int count);

    /// <summary>Copies <paramref name="data"/> from rank <paramref name="root"/> to every rank (same length on each).</summary>
    void Broadcast(Span<byte> data, int root);

    /// <summary>Waits until every rank has reached this call.</summary>
    void Barrier();

    /// <summary>Ends every rank's process at once (MPI_Abort): for an error on one rank that would otherwise leave the others waiting in a collective.</summary>
    [DoesNotReturn]
    void Abort(int errorCode);
}

/// <summary>A reduction started by <see cref="ICommunicator.StartAllReduceSum"/>.</summary>
public interface IPendingReduction
{
    /// <summary>Lets the transport make progress; true once the result is in the buffer.</summary>
    bool Test();

    /// <summary>Blocks until the result is in the buffer.</summary>
    void Wait();
}

/// <summary>A group of one: every collective is the identity. Data-parallel code runs unchanged in a single process.</summary>
public sealed class SingleProcess : ICommunicator
{
    /// <summary>The one instance.</summary>
    public static SingleProcess Instance { get; } = new();

    private SingleProcess()
    {
    }

    /// <inheritdoc/>
    public int Rank => 0;

    /// <inheritdoc/>
    public int Size => 1;

    /// <inheritdoc/>
    public int LocalSize => 1;

    /// <inheritdoc/>
    public string Description => "single process";

    /// <inheritdoc/>
    public void AllReduceSum(Span<float> values)
    {
    }

    /// <inheritdoc/>
    public void AllReduceSum(Span<double> values)
    {
    }

    /// <inheritdoc/>
    public IPendingReduction StartAllReduceSum(float[] buffer, int offset, int count) => Done.Instance;

    /// <inheritdoc/>
    public void Broadcast(Span<byte> data, int root) => ArgumentOutOfRangeException.ThrowIfNotEqual(root, 0);

    /// <inheritdoc/>
    public void Barrier()
    {
    }

    /// <inheritdoc/>
    [DoesNotReturn]
    public void Abort(int errorCode)
    {
        Environment.Exit(errorCode);
        throw new UnreachableException();
    }

    private sealed class Done : IPendingReduction
    {
        public static Done Instance { get; } = new();

        public bool Test() => true;

        public void Wait()
        {
        }
    }
}
