namespace Nabla.Data;

/// <summary>
/// Train/test splits that reproduce scikit-learn's <c>train_test_split(..., test_size=f,
/// random_state=seed)</c> (and with <c>stratify=y</c>) index for index, so that a figure measured
/// with scikit-learn and one measured here describe the same rows. The random stream is NumPy's
/// legacy <c>RandomState(seed)</c> (MT19937 with its bounded-integer rejection sampling); the
/// arithmetic of the sizes follows scikit-learn 1.2: <c>ceil(f * n)</c> test rows and
/// <c>floor((1 - f) * n)</c> training rows.
/// </summary>
public static class TrainTestSplit
{
    /// <summary>A shuffled split of <paramref name="count"/> rows: indices of the training and test rows, in scikit-learn's order.</summary>
    public static (int[] Train, int[] Test) Random(int count, double testFraction, uint seed)
    {
        var (nTrain, nTest) = Sizes(count, testFraction);
        var rng = new NumPyRandomState(seed);
        int[] permutation = rng.Permutation(count);
        return (permutation[nTest..(nTest + nTrain)], permutation[..nTest]);
    }

    /// <summary>
    /// A split that keeps each class's share in both parts (scikit-learn's
    /// <c>StratifiedShuffleSplit</c>): indices of the training and test rows, in scikit-learn's order.
    /// Classes are the distinct labels in ascending order.
    /// </summary>
    public static (int[] Train, int[] Test) Stratified(IReadOnlyList<float> labels, double testFraction, uint seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var (nTrain, nTest) = Sizes(labels.Count, testFraction);
        float[] classes = labels.Distinct().Order().ToArray();
        if (classes.Length < 2) throw new ArgumentException("A stratified split needs at least two classes.", nameof(labels));
        // Rows of each class in ascending order (NumPy's stable argsort of the class indices).
        int[][] members = classes.Select(c => Enumerable.Range(0, labels.Count).Where(i => labels[i] == c).ToArray()).ToArray();
        int[] counts = members.Select(m => m.Length).ToArray();
        if (counts.Min() < 2) throw new ArgumentException($"A stratified split needs at least two rows of every class; class {classes[Array.IndexOf(counts, counts.Min())]} has {counts.Min()}.", nameof(labels));
        if (nTest < classes.Length || nTrain < classes.Length)
            throw new ArgumentException($"A stratified split of {labels.Count} rows into {nTrain} and {nTest} cannot hold all {classes.Length} classes on both sides.", nameof(labels));
        var rng = new NumPyRandomState(seed);
        int[] trainPerClass = ApproximateMode(counts, nTrain, rng);
        int[] testPerClass = ApproximateMode(counts.Select((c, i) => c - trainPerClass[i]).ToArray(), nTest, rng);
        var train = new List<int>(nTrain);
        var test = new List<int>(nTest);
        for (int k = 0; k < classes.Length; k++)
        {
            int[] order = rng.Permutation(counts[k]);
            for (int j = 0; j < trainPerClass[k]; j++) train.Add(members[k][order[j]]);
            for (int j = trainPerClass[k]; j < trainPerClass[k] + testPerClass[k]; j++) test.Add(members[k][order[j]]);
        }
        int[] trainOut = [.. train], testOut = [.. test];
        rng.Shuffle(trainOut);
        rng.Shuffle(testOut);
        return (trainOut, testOut);
    }

    private static (int Train, int Test) Sizes(int count, double testFraction)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 2);
        if (!(testFraction > 0 && testFraction < 1)) throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "The test fraction must lie strictly between 0 and 1.");
        int nTest = (int)Math.Ceiling(testFraction * count);
        int nTrain = (int)Math.Floor((1.0 - testFraction) * count);
        if (nTrain == 0) throw new ArgumentException($"A test fraction of {testFraction} leaves no training rows out of {count}.");
        return (nTrain, nTest);
    }

    /// <summary>scikit-learn's <c>_approximate_mode</c>: per-class draws closest to the class shares, ties broken from the random stream.</summary>
    private static int[] ApproximateMode(int[] classCounts, int draws, NumPyRandomState rng)
    {
        double total = classCounts.Sum();
        double[] continuous = classCounts.Select(c => c / total * draws).ToArray();
        int[] floored = continuous.Select(v => (int)Math.Floor(v)).ToArray();
        int needToAdd = draws - floored.Sum();
        if (needToAdd <= 0) return floored;
        double[] remainder = continuous.Select((v, i) => v - Math.Floor(v)).ToArray();
        foreach (double value in remainder.Distinct().OrderDescending())
        {
            int[] inds = Enumerable.Range(0, remainder.Length).Where(i => remainder[i] == value).ToArray();
            int addNow = Math.Min(inds.Length, needToAdd);
            int[] pick = rng.Permutation(inds.Length);
            for (int j = 0; j < addNow; j++) floored[inds[pick[j]]]++;
            needToAdd -= addNow;
            if (needToAdd == 0) break;
        }
        return floored;
    }
}

/// <summary>
/// NumPy's legacy <c>RandomState</c> stream for the calls a split needs: MT19937 seeded as
/// <c>RandomState(seed)</c> seeds it, and <c>shuffle</c>/<c>permutation</c> with the same
/// masked rejection sampling, so the permutations equal NumPy's.
/// </summary>
internal sealed class NumPyRandomState
{
    private const int N = 624, M = 397;
    private readonly uint[] _mt = new uint[N];
    private int _index;

    public NumPyRandomState(uint seed)
    {
        _mt[0] = seed;
        for (int i = 1; i < N; i++) _mt[i] = 1812433253u * (_mt[i - 1] ^ (_mt[i - 1] >> 30)) + (uint)i;
        _index = N;
    }

    /// <summary>The next 32-bit output of MT19937.</summary>
    public uint NextUInt32()
    {
        if (_index >= N) Twist();
        uint y = _mt[_index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        return y;
    }

    private void Twist()
    {
        for (int i = 0; i < N; i++)
        {
            uint y = (_mt[i] & 0x80000000u) | (_mt[(i + 1) % N] & 0x7fffffffu);
            _mt[i] = _mt[(i + M) % N] ^ (y >> 1) ^ ((y & 1) != 0 ? 0x9908b0dfu : 0u);
        }
        _index = 0;
    }

    /// <summary>A uniform integer in [0, max] (NumPy's <c>random_interval</c>).</summary>
    public uint Interval(uint max)
    {
        if (max == 0) return 0;
        uint mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        uint value;
        while ((value = NextUInt32() & mask) > max) { }
        return value;
    }

    /// <summary>Shuffles in place as <c>RandomState.shuffle</c> does a 1-D array.</summary>
    public void Shuffle(int[] values)
    {
        for (int i = values.Length - 1; i >= 1; i--)
        {
            int j = (int)Interval((uint)i);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }

    /// <summary><c>RandomState.permutation(n)</c>.</summary>
    public int[] Permutation(int n)
    {
        int[] values = Enumerable.Range(0, n).ToArray();
        Shuffle(values);
        return values;
    }
}
