namespace Nabla.Autograd;

/// <summary>
/// One training step whose activations are recycled: while alive, the storage of every tensor a
/// recorded op makes on the creating thread is noted, and when the scope is disposed that storage
/// is handed to the next step's tensors instead of being left to the garbage collector (on a CNN
/// the collector and the page faults of fresh activations cost more than the convolutions).
/// Created by <see cref="Tensor.StepScope"/>; <c>Fit</c> and <c>TrainOnBatch</c> open one per batch.
/// </summary>
/// <remarks>
/// The contract: a tensor produced by a recorded op inside the scope (an activation, the loss, any
/// view of them) is valid only until the scope ends; read what you need (<c>loss.Item()</c>,
/// metrics) inside it, and <see cref="Tensor.Clone"/> what must outlive it. Leaves (inputs,
/// parameters, optimizer state, tensors made with grad mode off) and the gradients kept in
/// <see cref="Tensor.Grad"/> are never recycled, wherever they were made. Scopes nest: only the
/// outermost one returns storage.
/// </remarks>
public struct StepScope : IDisposable
{
    private bool _active;

    /// <summary>Opens the scope on the current thread.</summary>
    public StepScope()
    {
        _active = StoragePool.BeginStep();
    }

    /// <summary>Ends the scope, recycling the storage of the tensors recorded in it (once, however often it is called).</summary>
    public void Dispose()
    {
        if (!_active) return;
        _active = false;
        StoragePool.EndStep();
    }
}
