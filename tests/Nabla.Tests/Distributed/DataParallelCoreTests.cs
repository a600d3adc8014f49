using Nabla.Data;
using Nabla.Distributed;
using Nabla.Layers;
using Nabla.Metrics;
using Nabla.Optimizers;

namespace Nabla.Tests.Distributed;

/// <summary>The parts of data-parallel training that need no second process (the MPI jobs are in Nabla.Distributed.Tests).</summary>
public sealed class DataParallelCoreTests
{
    private static TensorDataset Rows(int n) =>
        new(Tensor.FromArray([.. Enumerable.Range(0, n).Select(i => (float)i)], n, 1), Tensor.FromArray([.. Enumerable.Range(0, n).Select(i => (float)(i % 2))], n));

    [Theory]
    [InlineData(10, 4, 3)]
    [InlineData(98, 32, 3)]
    [InlineData(7, 7, 2)]
    public void Each_global_batch_is_split_into_contiguous_parts_that_differ_by_at_most_one_row(int n, int batch, int ranks)
    {
        var whole = new DataLoader(Rows(n), batch, shuffle: true, seed: 5, prefetch: false).Shards(0, 1).ToList();
        var parts = Enumerable.Range(0, ranks).Select(r => new DataLoader(Rows(n), batch, shuffle: true, seed: 5, prefetch: false).Shards(r, ranks).ToList()).ToList();
        for (int b = 0; b < whole.Count; b++)
        {
            float[] expected = whole[b].Batch!.X.ToArray();
            var joined = new List<float>();
            var sizes = new List<int>();
            for (int r = 0; r < ranks; r++)
            {
                var (part, offset, global) = parts[r][b];
                Assert.Equal(expected.Length, global);
                Assert.Equal(joined.Count, offset);
                sizes.Add(part?.Count ?? 0);
                if (part is not null) joined.AddRange(part.X.ToArray());
            }
            Assert.Equal(expected, joined);
            Assert.True(sizes.Max() - sizes.Min() <= 1, $"parts of batch {b}: {string.Join(", ", sizes)}");
        }
    }

    [Fact]
    public void A_short_last_batch_leaves_a_rank_without_rows()
    {
        var last = new DataLoader(Rows(98), 32, shuffle: false, prefetch: false).Shards(0, 3).Last();
        Assert.Null(last.Batch);
        Assert.Equal(2, last.GlobalCount);
    }

    /// <summary>A rank's dropout mask is its rows of the whole batch's mask, and the generator ends in the same state.</summary>
    [Fact]
    public void Dropout_masks_do_not_depend_on_how_the_batch_is_split()
    {
        var dropout = new Dropout(0.5f);
        dropout.Train();
        Tensor ones = Tensor.Ones([6, 5]);
        Generator.ManualSeed(3);
        float[] whole = dropout.Forward(ones).ToArray();
        ulong[] after = Generator.Default.GetState();
        Generator.ManualSeed(3);
        float[] part;
        using (BatchShard.Enter(2, 3, 6)) part = dropout.Forward(Tensor.Ones([3, 5])).ToArray();
        Assert.Equal(whole[10..25], part);
        Assert.Equal(after, Generator.Default.GetState());
        Assert.Contains(0f, whole);
        Assert.Contains(2f, whole);
    }

    /// <summary>Totals of two halves added equal the totals of the whole, for every metric that has them.</summary>
    [Fact]
    public void Metric_totals_of_two_parts_add_up_to_the_whole()
    {
        var g = new Generator(1);
        Tensor scores = Tensor.Rand([40, 1], g), labels = Tensor.FromArray([.. Enumerable.Range(0, 40).Select(i => (float)(i % 3 == 0 ? 1 : 0))], 40, 1);
        Tensor logits = Tensor.RandN([40, 6], g), classes = Tensor.FromArray([.. Enumerable.Range(0, 40).Select(i => (float)(i % 6))], 40);
        Metric[] Make() => [new Accuracy(), new Precision(), new Recall(), new F1Score(), new MeanAbsoluteErrorMetric(), new MeanSquaredErrorMetric(), new TopKAccuracy(3)];
        void Feed(Metric m, int lo, int hi)
        {
            if (m is TopKAccuracy) m.Update(logits.Slice(0, lo, hi), classes.Slice(0, lo, hi));
            else m.Update(scores.Slice(0, lo, hi), labels.Slice(0, lo, hi));
        }
        Metric[] whole = Make(), first = Make(), second = Make();
        for (int i = 0; i < whole.Length; i++)
        {
            Feed(whole[i], 0, 40);
            Feed(first[i], 0, 17);
            Feed(second[i], 17, 40);
            double[] sum = [.. first[i].GetTotals()!.Zip(second[i].GetTotals()!, (a, b) => a + b)];
            first[i].SetTotals(sum);
            Assert.Equal(whole[i].Result(), first[i].Result(), 6);
        }
        Assert.Null(new Auc().GetTotals());
        Assert.Throws<ArgumentException>(() => new Accuracy().SetTotals([1, 2, 3]));
    }

    /// <summary>With one rank, DataParallel's backward gives the gradients of a plain backward, scaled by the weight.</summary>
    [Fact]
    public void One_rank_data_parallel_backward_is_the_plain_gradient_times_its_weight()
    {
        Generator.ManualSeed(2);
        var model = new Sequential(new Input(4), new Dense(8, Activations.Tanh), new Dense(3));
        Tensor x = Tensor.RandN([5, 4], new Generator(4));
        Tensor Loss() => (model.Forward(x) * model.Forward(x)).Mean();
        Loss().Backward();
        var plain = model.Parameters().Select(p => p.Grad!.ToArray()).ToList();
        foreach (var p in model.Parameters()) p.Value.ZeroGrad();
        var ddp = new DataParallel(model, SingleProcess.Instance, bucketFloats: 20);
        Assert.True(ddp.BucketSizes.Count > 1);
        ddp.Backward(Loss(), weight: 0.25f);
        var scaled = model.Parameters().Select(p => p.Grad!.ToArray()).ToList();
        for (int i = 0; i < plain.Count; i++)
        {
            for (int k = 0; k < plain[i].Length; k++) Assert.Equal(plain[i][k] * 0.25f, scaled[i][k], 6);
        }
    }

    /// <summary>Fit with a group of one rank trains exactly as Fit without one.</summary>
    [Fact]
    public void Fit_on_a_single_process_group_equals_plain_fit()
    {
        float[] Train(ICommunicator? comm)
        {
            Generator.ManualSeed(8);
            var model = new Sequential(new Input(1), new Dense(4, Activations.Relu), new Dropout(0.2f), new Dense(1));
            model.Compile("mse", new Adam(0.01f));
            model.Fit(Rows(30).X, Rows(30).Y.Reshape(30, 1), epochs: 3, batchSize: 8, verbose: 0, distributed: comm);
            return [.. model.Parameters().SelectMany(p => p.Value.ToArray())];
        }
        Assert.Equal(Train(null), Train(SingleProcess.Instance));
    }
}
