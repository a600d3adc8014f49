namespace Nabla.Autograd;

/// <summary>
/// Runs backward: orders the graph topologically (iteratively, no recursion, so long
/// recurrent graphs cannot overflow the stack), then applies each node's rule once, in
/// reverse order, accumulating gradients in a fixed order so results are repeatable.
/// </summary>
internal static class Engine
{
    private static int s_stamp;

    /// <summary>
    /// The seed of the next backward from a scalar on this thread (1 outside data-parallel training,
    /// where each rank's loss counts by its share of the global batch): the same as scaling the loss.
    /// </summary>
    [ThreadStatic] internal static float? t_seedScale;

    public static void Backward(Tensor root, Tensor grad, bool retainGraph)
    {
        if (!root.RequiresGrad)
            throw new InvalidOperationException($"Backward: the tensor {root.ShapeString} does not require grad and has no recorded graph; set RequiresGrad on the inputs before computing it.");
        List<Tensor> order = TopologicalOrder(root);
        try
        {
            Run(root, grad, retainGraph, order);
        }
        finally
        {
            // The list goes back for this thread's next pass (a nested pass made its own).
            order.Clear();
            t_order = order;
        }
    }

    // One topological order list and one walk stack per thread, reused by every pass on it.
    [ThreadStatic] private static List<Tensor>? t_order;
    [ThreadStatic] private static Stack<(Tensor Tensor, int Next)>? t_stack;

    private static void Run(Tensor root, Tensor grad, bool retainGraph, List<Tensor> order)
    {
        root.PendingGrad = grad;
        using var noGrad = new NoGradScope();
        bool pooling = StoragePool.BeginPass();
        bool completed = false;
        try
        {
            for (int i = order.Count - 1; i >= 0; i--)
            {
                Tensor t = order[i];
                Tensor? g = t.PendingGrad;
                t.PendingGrad = null;
                t.PendingOwned = false;
                Node? node = t.GradFn;
                if (g is null)
                {
                    // A rule may have written this leaf's gradient in place; either way it is final now.
                    if (node is null) t.GradReadyHook?.Invoke(t);
                    continue;
                }
                if (node is null)
                {
                    Accumulate(t, g);
                    t.GradReadyHook?.Invoke(t);
                    continue;
                }
                if (node.IsReleased)
                    throw new InvalidOperationException($"Backward: the graph through {node.Name} was already freed by an earlier backward; pass retainGraph: true to the first Backward call to go through it twice.");
                IReadOnlyList<Tensor> inputs = node.Inputs;
                if (inputs.Count == 1 && inputs[0].RequiresGrad && node.AccumulatesInPlace)
                {
                    AccumulateSparse(node, inputs[0], g);
                    continue;
                }
                Tensor?[] grads = node.Backward(g);
                if (AnomalyMode.IsEnabled) AnomalyMode.CheckBackward(node, grads);
                for (int k = 0; k < inputs.Count; k++)
                {
                    Tensor input = inputs[k];
                    Tensor? gi = k < grads.Length ? grads[k] : null;
                    if (gi is null || !input.RequiresGrad) continue;
                    if (!Shapes.Equal(gi.Shape, input.Shape))
                        throw new InvalidOperationException($"{node.Name} returned a gradient of shape {gi.ShapeString} for input {k} of shape {input.ShapeString}.");
                    AddPending(input, gi);
                }
            }
            completed = true;
        }
        finally
        {
            foreach (Tensor t in order)
            {
                t.PendingGrad = null;
                t.PendingOwned = false;
            }
            // The gradients made in this pass are garbage now, except the leaves' own ones.
            // With a retained graph a node might still hold one, so nothing is returned then.
            if (pooling) StoragePool.EndPass(completed && !retainGraph, order);
        }
        if (!retainGraph)
        {
            foreach (Tensor t in order) t.GradFn?.Release();
        }
    }

    /// <summary>
    /// Sums a gradient into a tensor's pending gradient. The first one is kept as it is (it may be
    /// shared with other tensors); later ones are added into a buffer owned by this tensor alone.
    /// </summary>
    private static void AddPending(Tensor input, Tensor gi)
    {
        Tensor? pending = input.PendingGrad;
        if (pending is null)
        {
            input.PendingGrad = gi;
            input.PendingOwned = false;
        }
        else if (input.PendingOwned)
        {
            Kernels.Strided.AddInto(gi.Storage, gi.Offset, gi.Strides, pending.Storage, pending.Offset, pending.Strides, gi.ShapeArray);
        }
        else
        {
            input.PendingGrad = pending + gi;
            input.PendingOwned = true;
        }
    }

    /// <summary>Lets a slice-like node add its gradient straight into the input's own pending buffer.</summary>
    private static void AccumulateSparse(Node node, Tensor input, Tensor g)
    {
        Tensor target;
        if (input.PendingOwned)
        {
            target = input.PendingGrad!;
        }
        else
        {
            target = input.PendingGrad is { } shared ? shared.ContiguousCopy() : new Tensor((int[])input.ShapeArray.Clone());
        }
        node.AccumulateInto(target, g);
        input.PendingGrad = target;
        input.PendingOwned = true;
    }

    /// <summary>Post-order of every tensor that requires grad and is reachable from <paramref name="root"/>.</summary>
    private static List<Tensor> TopologicalOrder(Tensor root)
    {
        int stamp = Interlocked.Increment(ref s_stamp);
        List<Tensor> order = t_order ?? [];
        t_order = null;
        Stack<(Tensor Tensor, int Next)> stack = t_stack ?? new();
        t_stack = null;
        root.VisitStamp = stamp;
        stack.Push((root, 0));
        while (stack.Count > 0)
        {
            var (t, next) = stack.Pop();
            IReadOnlyList<Tensor> inputs = t.GradFn is { } fn ? fn.Inputs : [];
            bool descended = false;
            for (int k = next; k < inputs.Count; k++)
            {
                Tensor child = inputs[k];
                if (!child.RequiresGrad || child.VisitStamp == stamp) continue;
                child.VisitStamp = stamp;
                stack.Push((t, k + 1));
                stack.Push((child, 0));
                descended = true;
                break;
            }
            if (!descended) order.Add(t);
        }
        t_stack = stack;
        return order;
    }

    /// <summary>Adds a gradient into a leaf's <see cref="Tensor.Grad"/>; the first one is copied so the leaf owns it.</summary>
    private static void Accumulate(Tensor leaf, Tensor g)
    {
        if (!leaf.RequiresGrad) return;
        leaf.AccumulateGrad(g);
    }
}
