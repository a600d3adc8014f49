using System.Buffers;

namespace Nabla.Kernels;

/// <summary>
/// Scratch buffers for kernels' internal temporaries (lowered convolution inputs, transposed
/// gradients, pooling indices): rented for the duration of an op or until the recorded graph
/// is released, then returned, so a training step does not allocate them afresh. A rented array
/// may be longer than asked for and holds stale values: users index by the size they asked for
/// and overwrite before reading. Buffers that escape to users are never pooled.
/// </summary>
public static class BufferPool
{
    private static readonly ArrayPool<float> s_floats = ArrayPool<float>.Create(maxArrayLength: 1 << 27, maxArraysPerBucket: 8);
    private static readonly ArrayPool<int> s_ints = ArrayPool<int>.Create(maxArrayLength: 1 << 27, maxArraysPerBucket: 8);

    /// <summary>A float array of at least <paramref name="length"/> elements, contents undefined.</summary>
    public static float[] RentFloats(int length) => s_floats.Rent(length);

    /// <summary>Gives back an array from <see cref="RentFloats"/>; it must not be used afterwards.</summary>
    public static void Return(float[] buffer) => s_floats.Return(buffer);

    /// <summary>An int array of at least <paramref name="length"/> elements, contents undefined.</summary>
    public static int[] RentInts(int length) => s_ints.Rent(length);

    /// <summary>Gives back an array from <see cref="RentInts"/>; it must not be used afterwards.</summary>
    public static void Return(int[] buffer) => s_ints.Return(buffer);
}
