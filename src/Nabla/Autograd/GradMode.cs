namespace Nabla.Autograd;

/// <summary>Whether ops are recorded for backward on the current thread.</summary>
public static class GradMode
{
    [ThreadStatic] private static int t_disabledDepth;

    /// <summary>True unless the current thread is inside a <see cref="NoGradScope"/>.</summary>
    public static bool IsEnabled => t_disabledDepth == 0;

    internal static void Enter() => t_disabledDepth++;

    internal static void Exit() => t_disabledDepth--;
}

/// <summary>
/// While alive, ops on the creating thread record nothing (no graph, no saved tensors).
/// Created by <see cref="Tensor.NoGrad"/>; scopes nest.
/// </summary>
public struct NoGradScope : IDisposable
{
    private bool _active;

    /// <summary>Enters a scope in which grad mode is off.</summary>
    public NoGradScope()
    {
        GradMode.Enter();
        _active = true;
    }

    /// <summary>Leaves the scope (once, however often it is called).</summary>
    public void Dispose()
    {
        if (!_active) return;
        _active = false;
        GradMode.Exit();
    }
}
