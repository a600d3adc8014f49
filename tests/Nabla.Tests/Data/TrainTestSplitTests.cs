using Nabla.Data;

namespace Nabla.Tests.Data;

/// <summary>
/// The splits against values printed by scikit-learn 1.2.1 / NumPy 1.24.2 (Debian 12's
/// python3-sklearn): the same seed must give the same rows, so figures measured there and here
/// describe the same test set.
/// </summary>
public class TrainTestSplitTests
{
    [Fact]
    public void PermutationEqualsNumPyRandomState()
    {
        // np.random.RandomState(0).permutation(10)
        Assert.Equal([2, 8, 4, 9, 1, 6, 7, 3, 0, 5], new NumPyRandomState(0).Permutation(10));
    }

    [Fact]
    public void RandomSplitEqualsScikitLearn()
    {
        // train_test_split(np.arange(7), test_size=0.3, random_state=5)
        var (train, test) = TrainTestSplit.Random(7, 0.3, 5);
        Assert.Equal([1, 0, 5, 3], train);
        Assert.Equal([6, 2, 4], test);
    }

    [Fact]
    public void StratifiedSplitEqualsScikitLearnIncludingTieBreaks()
    {
        // train_test_split(np.arange(11), test_size=0.3, random_state=3, stratify=[0,0,0,1,1,1,1,2,2,2,2]):
        // 7.7 training rows by share, so the draws of the leftover row are broken from the stream.
        float[] labels = [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2];
        var (train, test) = TrainTestSplit.Stratified(labels, 0.3, 3);
        Assert.Equal([9, 2, 10, 1, 8, 4, 5], train);
        Assert.Equal([7, 0, 6, 3], test);
    }

    [Fact]
    public void StratifiedSplitKeepsSharesAndPartitions()
    {
        var labels = Enumerable.Range(0, 1000).Select(i => (float)(i % 10 < 3 ? 1 : 0)).ToArray();
        var (train, test) = TrainTestSplit.Stratified(labels, 0.2, 0);
        Assert.Equal(800, train.Length);
        Assert.Equal(200, test.Length);
        Assert.Equal(60, test.Count(i => labels[i] == 1));
        Assert.Equal(1000, train.Concat(test).Distinct().Count());
    }

    public static IEnumerable<object[]> FixtureCases() =>
        Enumerable.Range(0, System.Text.Json.JsonDocument.Parse(File.ReadAllText(FixturePath)).RootElement.GetProperty("cases").GetArrayLength()).Select(i => new object[] { i });

    private static string FixturePath => Path.Combine(AppContext.BaseDirectory, "Fixtures", "splits.json");

    /// <summary>
    /// scripts/make-split-fixture.py: scikit-learn's indices for tables of 12 to 700 rows (past
    /// MT19937's 624-word state), several fractions and seeds (0 to 2^32 - 1), and unequal classes.
    /// </summary>
    [Theory]
    [MemberData(nameof(FixtureCases))]
    public void SplitsEqualScikitLearnsOnTheFixture(int index)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(FixturePath));
        var c = doc.RootElement.GetProperty("cases")[index];
        int rows = c.GetProperty("rows").GetInt32();
        double fraction = c.GetProperty("test_size").GetDouble();
        uint seed = c.GetProperty("seed").GetUInt32();
        int[] Ints(string name) => c.GetProperty(name).EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var (train, test) = c.GetProperty("labels").ValueKind == System.Text.Json.JsonValueKind.Null
            ? TrainTestSplit.Random(rows, fraction, seed)
            : TrainTestSplit.Stratified(Ints("labels").Select(l => (float)l).ToArray(), fraction, seed);
        Assert.Equal(Ints("test"), test);
        Assert.Equal(Ints("train"), train);
    }

    [Fact]
    public void LongPermutationsEqualNumPys()
    {
        // Past 65 536 rows the bounded integers need every bit of the mask NumPy builds.
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(FixturePath));
        foreach (var p in doc.RootElement.GetProperty("permutations").EnumerateArray())
        {
            int rows = p.GetProperty("rows").GetInt32();
            int[] permutation = new NumPyRandomState(p.GetProperty("seed").GetUInt32()).Permutation(rows);
            Assert.Equal(p.GetProperty("head").EnumerateArray().Select(e => e.GetInt32()), permutation[..12]);
            Assert.Equal(p.GetProperty("tail").EnumerateArray().Select(e => e.GetInt32()), permutation[^12..]);
            long weighted = 0;
            for (int i = 0; i < rows; i++) weighted = (weighted + (long)permutation[i] * i) % (1L << 31);
            Assert.Equal(p.GetProperty("weighted_sum_mod_2_31").GetInt64(), weighted);
        }
    }

    [Fact]
    public void AStratifiedSplitMayHoldExactlyOneRowPerClassOnEitherSide()
    {
        float[] labels = [0, 0, 1, 1, 0, 1, 0, 1, 0, 1];
        var (train, test) = TrainTestSplit.Stratified(labels, 0.2, 4);
        Assert.Equal((8, 2), (train.Length, test.Length));
        Assert.Equal(2, test.Select(i => labels[i]).Distinct().Count());
        (train, test) = TrainTestSplit.Stratified([0, 0, 1, 1], 0.5, 4);
        Assert.Equal((2, 2), (train.Length, test.Length));
    }

    [Fact]
    public void SizesFollowScikitLearnsRounding()
    {
        // ceil(f n) test rows and floor((1 - f) n) training rows: 0.3 of 7 is 2.1 -> 3 test, 4.9 -> 4 training.
        var (train, test) = TrainTestSplit.Random(7, 0.3, 1);
        Assert.Equal((4, 3), (train.Length, test.Length));
        (train, test) = TrainTestSplit.Random(10, 0.5, 1);
        Assert.Equal((5, 5), (train.Length, test.Length));
        Assert.Equal(10, train.Concat(test).Distinct().Count());
        (train, test) = TrainTestSplit.Random(2, 0.5, 9);
        Assert.Equal((1, 1), (train.Length, test.Length));
    }

    [Fact]
    public void BadArgumentsAreNamed()
    {
        Assert.Contains("class 1", Assert.Throws<ArgumentException>(() => TrainTestSplit.Stratified([0, 0, 0, 1], 0.5, 0)).Message);
        Assert.Contains("has 1", Assert.Throws<ArgumentException>(() => TrainTestSplit.Stratified([0, 0, 0, 1, 2, 2], 0.5, 0)).Message);
        Assert.Contains("at least two classes", Assert.Throws<ArgumentException>(() => TrainTestSplit.Stratified([1, 1, 1, 1], 0.5, 0)).Message);
        Assert.Contains("cannot hold all 3 classes", Assert.Throws<ArgumentException>(() => TrainTestSplit.Stratified([0, 0, 1, 1, 2, 2, 0, 1], 0.2, 0)).Message);
        Assert.Contains("into 1 and 5 cannot hold all 3 classes", Assert.Throws<ArgumentException>(() => TrainTestSplit.Stratified([0, 0, 1, 1, 2, 2], 0.75, 0)).Message);
        Assert.Contains("The test fraction must lie strictly between 0 and 1", Assert.Throws<ArgumentOutOfRangeException>(() => TrainTestSplit.Random(10, 1.5, 0)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => TrainTestSplit.Random(10, 1.0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TrainTestSplit.Random(10, 0.0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TrainTestSplit.Random(10, double.NaN, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TrainTestSplit.Random(1, 0.5, 0));
        Assert.Contains("no training rows", Assert.Throws<ArgumentException>(() => TrainTestSplit.Random(3, 0.99, 0)).Message);
        Assert.Throws<ArgumentNullException>(() => TrainTestSplit.Stratified(null!, 0.5, 0));
    }
}
