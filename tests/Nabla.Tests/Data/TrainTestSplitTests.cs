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

    [Fact]
    public void BadArgumentsAreNamed()
    {
        Assert.Contains("class 1", Assert.Throws<ArgumentException>(() => TrainTestSplit.Stratified([0, 0, 0, 1], 0.5, 0)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => TrainTestSplit.Random(10, 1.5, 0));
    }
}
