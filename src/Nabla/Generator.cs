namespace Nabla;

/// <summary>
/// A seedable pseudo-random generator (xoshiro256** seeded through SplitMix64). The same
/// seed gives the same sequence on every machine and .NET version, and the state can be
/// saved and restored, so runs and checkpoints are repeatable. Not thread-safe: use one
/// generator per thread.
/// </summary>
public sealed class Generator
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>Creates a generator from a seed.</summary>
    public Generator(ulong seed) => Seed(seed);

    [ThreadStatic] private static Generator? t_default;

    /// <summary>
    /// The generator used when none is passed (weights, shuffling, dropout). There is one per
    /// thread, so trainings on different threads never disturb each other's sequence;
    /// <see cref="ManualSeed"/> re-seeds the calling thread's. It starts from seed 0, so a
    /// program that never seeds is still repeatable.
    /// </summary>
    public static Generator Default => t_default ??= new Generator(0);

    /// <summary>Re-seeds the calling thread's <see cref="Default"/>, as torch.manual_seed does.</summary>
    public static void ManualSeed(ulong seed) => Default.Seed(seed);

    /// <summary>Resets the state from a seed.</summary>
    public void Seed(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Draws and discards <paramref name="count"/> numbers (as many NextUInt64 calls).</summary>
    public void Skip(long count)
    {
        for (long i = 0; i < count; i++) NextUInt64();
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform float in [0, 1) with 24 random bits.</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>A uniform integer in [0, <paramref name="maxExclusive"/>), without modulo bias.</summary>
    public int NextInt(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxExclusive, 1);
        ulong bound = (ulong)maxExclusive;
        ulong threshold = (0UL - bound) % bound;
        while (true)
        {
            ulong r = NextUInt64();
            if (r >= threshold) return (int)(r % bound);
        }
    }

    /// <summary>A standard normal sample (Box-Muller, in double precision).</summary>
    public double NextNormal()
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Shuffles <paramref name="values"/> in place (Fisher-Yates).</summary>
    public void Shuffle(Span<int> values)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    /// <summary>The four state words, for checkpoints.</summary>
    public ulong[] GetState() => [_s0, _s1, _s2, _s3];

    /// <summary>Restores a state from <see cref="GetState"/>.</summary>
    public void SetState(ReadOnlySpan<ulong> state)
    {
        if (state.Length != 4) throw new ArgumentException($"A generator state has 4 words, not {state.Length}.", nameof(state));
        if ((state[0] | state[1] | state[2] | state[3]) == 0) throw new ArgumentException("A generator state cannot be all zeros.", nameof(state));
        _s0 = state[0]; _s1 = state[1]; _s2 = state[2]; _s3 = state[3];
    }
}
