using System.Globalization;
using System.Runtime.InteropServices;

namespace Nabla.Distributed.Tests;

/// <summary>
/// Data-parallel training across processes: each test starts the worker as an MPI job of 2 or 3
/// ranks (under a timeout) and compares what the ranks wrote. Jobs run one at a time.
/// </summary>
[Collection("mpi")]
public sealed class DataParallelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nabla-mpi").FullName;

    public void Dispose()
    {
        Directory.Delete(_dir, true);
        GC.SuppressFinalize(this);
    }

    private string Dir(string name) => Path.Combine(_dir, name);

    private static float[] Floats(string path) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();

    private static void Succeeded((int Code, string Out, string Error, TimeSpan Elapsed) job) =>
        Assert.True(job.Code == 0, $"the MPI job failed (exit {job.Code}):\n{job.Out}\n{job.Error}");

    [SkippableTheory]
    [InlineData(2, MpiJob.OpenMpiLauncher)]
    [InlineData(3, MpiJob.OpenMpiLauncher)]
    [InlineData(2, MpiJob.MpichLauncher)]
    public void Sums_and_broadcasts_of_0_1_7_and_1M_floats_are_exact_and_identical_on_every_rank(int ranks, string launcher)
    {
        MpiJob.SkipUnlessInstalled(launcher);
        var job = MpiJob.Run(ranks, ["collectives", Dir("c")], launcher);
        Succeeded(job);
        for (int r = 0; r < ranks; r++) Assert.Contains($"rank {r}: ok", job.Out, StringComparison.Ordinal);
        // Every rank announces itself with its MPI library.
        Assert.Contains(launcher == MpiJob.MpichLauncher ? "MPICH" : "Open MPI", job.Out, StringComparison.Ordinal);
        foreach (int n in new[] { 1, 7, 1 << 20 })
        {
            byte[] first = File.ReadAllBytes(Path.Combine(Dir("c"), $"sum{n}.rank0.bin"));
            Assert.Equal(n * 4, first.Length);
            for (int r = 1; r < ranks; r++) Assert.Equal(first, File.ReadAllBytes(Path.Combine(Dir("c"), $"sum{n}.rank{r}.bin")));
        }
    }

    /// <summary>
    /// 52 steps (13 epochs of 4 batches, the last uneven, with 3 ranks one rank gets no row):
    /// every rank ends with the same bits, and they are those of one process computing the shards'
    /// gradients in turn and summing them in rank order. With batch normalisation each rank
    /// normalises by its own shard's statistics (as PyTorch's DistributedDataParallel does).
    /// </summary>
    [SkippableTheory]
    [InlineData("dropout", 2)]
    [InlineData("dropout", 3)]
    [InlineData("bn", 2)]
    [InlineData("bn", 3)]
    public void After_52_steps_every_rank_holds_the_bits_of_the_shards_summed_in_turn(string model, int ranks)
    {
        MpiJob.SkipUnlessInstalled(MpiJob.OpenMpiLauncher);
        Succeeded(MpiJob.Run(ranks, ["train", Dir("t"), model, "13"]));
        var reference = MpiJob.RunAlone("reference", Dir("t"), model, ranks.ToString(CultureInfo.InvariantCulture), "13");
        Assert.True(reference.Code == 0, reference.Error);
        byte[] expected = File.ReadAllBytes(Path.Combine(Dir("t"), "params.reference.bin"));
        Assert.True(expected.Length > 100);
        for (int r = 0; r < ranks; r++)
            Assert.True(expected.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(Dir("t"), $"params.rank{r}.bin"))), $"rank {r}'s parameters differ from the reference");
    }

    /// <summary>The sums started during backward on the communicator's thread (overlap, chosen where ranks have cores to spare) give the same bits.</summary>
    [SkippableTheory]
    [InlineData(2)]
    [InlineData(3)]
    public void Reducing_while_backward_runs_gives_the_same_bits(int ranks)
    {
        MpiJob.SkipUnlessInstalled(MpiJob.OpenMpiLauncher);
        // Buckets of at most 40 floats: the sums of the last layers start while backward goes on.
        Succeeded(MpiJob.Run(ranks, ["train", Dir("t"), "bn", "13"], launcherOptions: ["-x", "NABLA_DDP_OVERLAP=1", "-x", "NABLA_DDP_BUCKET_FLOATS=40"]));
        var reference = MpiJob.RunAlone("reference", Dir("t"), "bn", ranks.ToString(CultureInfo.InvariantCulture), "13");
        Assert.True(reference.Code == 0, reference.Error);
        byte[] expected = File.ReadAllBytes(Path.Combine(Dir("t"), "params.reference.bin"));
        for (int r = 0; r < ranks; r++)
            Assert.True(expected.AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(Dir("t"), $"params.rank{r}.bin"))), $"rank {r}'s parameters differ from the reference");
    }

    /// <summary>Against a plain single-process Fit with the same global batch: only the order of float sums differs (dropout masks do not depend on the rank count).</summary>
    [SkippableTheory]
    [InlineData(2)]
    [InlineData(3)]
    public void Parameters_are_within_1e_5_of_a_single_process_fit(int ranks)
    {
        MpiJob.SkipUnlessInstalled(MpiJob.OpenMpiLauncher);
        Succeeded(MpiJob.Run(ranks, ["train", Dir("t"), "dropout", "13"]));
        var single = MpiJob.RunAlone("single", Dir("s"), "dropout", "13");
        Assert.True(single.Code == 0, single.Error);
        AssertClose(Floats(Path.Combine(Dir("s"), "params.rank0.bin")), Floats(Path.Combine(Dir("t"), "params.rank0.bin")), 1e-5);
        float singleLoss = float.Parse(File.ReadAllText(Path.Combine(Dir("s"), "loss.rank0.txt")), CultureInfo.InvariantCulture);
        float distributedLoss = float.Parse(File.ReadAllText(Path.Combine(Dir("t"), "loss.rank0.txt")), CultureInfo.InvariantCulture);
        Assert.Equal(singleLoss, distributedLoss, 1e-5f);
    }

    private static void AssertClose(float[] expected, float[] actual, double relative)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(v => Math.Abs((double)v)), worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs((double)expected[i] - actual[i]));
        Assert.True(worst <= relative * scale, $"largest difference {worst:G3} exceeds {relative:G2} x {scale:G3}");
    }

    [SkippableFact]
    public void The_tcp_transport_gives_the_same_parameters_as_shared_memory()
    {
        MpiJob.SkipUnlessInstalled(MpiJob.OpenMpiLauncher);
        Succeeded(MpiJob.Run(2, ["train", Dir("shm"), "dropout", "13"], launcherOptions: ["--mca", "pml", "ob1", "--mca", "btl", "vader,self"]));
        Succeeded(MpiJob.Run(2, ["train", Dir("tcp"), "dropout", "13"], launcherOptions: ["--mca", "pml", "ob1", "--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", "lo"]));
        Assert.Equal(File.ReadAllBytes(Path.Combine(Dir("shm"), "params.rank0.bin")), File.ReadAllBytes(Path.Combine(Dir("tcp"), "params.rank0.bin")));
    }

    [SkippableFact]
    public void Mpich_trains_to_the_same_parameters_as_open_mpi()
    {
        MpiJob.SkipUnlessInstalled(MpiJob.OpenMpiLauncher);
        MpiJob.SkipUnlessInstalled(MpiJob.MpichLauncher);
        Succeeded(MpiJob.Run(2, ["train", Dir("ompi"), "dropout", "13"]));
        Succeeded(MpiJob.Run(2, ["train", Dir("mpich"), "dropout", "13"], MpiJob.MpichLauncher));
        Assert.Equal(File.ReadAllBytes(Path.Combine(Dir("ompi"), "params.rank0.bin")), File.ReadAllBytes(Path.Combine(Dir("mpich"), "params.rank1.bin")));
    }

    [SkippableFact]
    public void An_exception_on_one_rank_ends_the_whole_job_within_seconds()
    {
        MpiJob.SkipUnlessInstalled(MpiJob.OpenMpiLauncher);
        // The worker would otherwise train for 1 000 epochs; rank 0 waits in a collective when rank 1 fails.
        var job = MpiJob.Run(2, ["fail", Dir("f")], timeout: TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, job.Code);
        Assert.Contains("rank 1: Fit failed: InvalidOperationException: injected failure on rank 1", job.Error, StringComparison.Ordinal);
        Assert.True(job.Elapsed < TimeSpan.FromSeconds(30), $"the job took {job.Elapsed} to end");
    }

    /// <summary>A checkpoint written by rank 0 of a 2-rank job resumes on 3 ranks: 2 + 2 epochs end where 4 epochs on 2 ranks do.</summary>
    [SkippableFact]
    public void A_checkpoint_from_two_ranks_resumes_on_three()
    {
        MpiJob.SkipUnlessInstalled(MpiJob.OpenMpiLauncher);
        Succeeded(MpiJob.Run(2, ["train", Dir("straight"), "dropout", "4"]));
        Succeeded(MpiJob.Run(2, ["train", Dir("first"), "dropout", "2"]));
        string checkpoint = Path.Combine(Dir("first"), "checkpoint.nabla");
        Assert.True(File.Exists(checkpoint));
        Succeeded(MpiJob.Run(3, ["train", Dir("resumed"), "dropout", "4", checkpoint]));
        var straight = Floats(Path.Combine(Dir("straight"), "params.rank0.bin"));
        AssertClose(straight, Floats(Path.Combine(Dir("resumed"), "params.rank2.bin")), 1e-5);
        // Not trivially: the first half alone is far from the end.
        Assert.Throws<Xunit.Sdk.TrueException>(() => AssertClose(straight, Floats(Path.Combine(Dir("first"), "params.rank0.bin")), 1e-2));
    }

    /// <summary>Fashion-MNIST (10 000 training images, 3 epochs, global batch 64): the test accuracy of 2 ranks is within 0.3 points of one process.</summary>
    [SkippableFact]
    public void Two_ranks_reach_the_accuracy_of_one_process_on_fashion_mnist()
    {
        MpiJob.SkipUnlessInstalled(MpiJob.OpenMpiLauncher);
        Skip.IfNot(File.Exists("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"), "Fashion-MNIST is not installed (bash scripts/install-data.sh).");
        Succeeded(MpiJob.Run(2, ["fashion", Dir("fm"), "distributed"], timeout: TimeSpan.FromSeconds(300)));
        var single = MpiJob.RunAlone("fashion", Dir("fm"));
        Assert.True(single.Code == 0, single.Error);
        double Read(string name) => double.Parse(File.ReadAllText(Path.Combine(Dir("fm"), name)), CultureInfo.InvariantCulture);
        double alone = Read("accuracy.single.txt"), together = Read("accuracy.rank0.txt");
        Assert.True(alone > 0.8, $"one process reached only {alone:P2}");
        Assert.True(Math.Abs(alone - together) <= 0.003, $"2 ranks {together:P2} vs one process {alone:P2}");
        Assert.Equal(together, Read("accuracy.rank1.txt"));
    }
}
