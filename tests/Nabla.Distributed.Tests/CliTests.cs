namespace Nabla.Distributed.Tests;

/// <summary>The nabla command on several ranks: --distributed for example and train, bench --ranks.</summary>
[Collection("mpi")]
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nabla-mpi-cli").FullName;

    public void Dispose()
    {
        Directory.Delete(_dir, true);
        GC.SuppressFinalize(this);
    }

    [SkippableFact]
    public void An_example_on_two_ranks_prints_one_result_and_each_rank_names_itself()
    {
        MpiJob.SkipUnlessInstalled(MpiJob.OpenMpiLauncher);
        var job = MpiJob.Run(2, ["example", "xor", "--distributed", "--json", "--epochs", "300"], program: MpiJob.Cli);
        Assert.True(job.Code == 0, job.Error);
        Assert.Contains("rank 0 of 2: Open MPI", job.Error, StringComparison.Ordinal);
        Assert.Contains("rank 1 of 2: Open MPI", job.Error, StringComparison.Ordinal);
        string[] json = [.. job.Out.Split('\n').Where(l => l.StartsWith('{'))];
        Assert.Single(json);
        Assert.Contains("\"example\":\"xor\"", json[0], StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Train_on_two_ranks_saves_once_and_the_model_predicts()
    {
        MpiJob.SkipUnlessInstalled(MpiJob.OpenMpiLauncher);
        var g = new Random(3);
        var lines = new List<string> { "a,b,label" };
        for (int i = 0; i < 200; i++)
        {
            double a = g.NextDouble(), b = g.NextDouble();
            lines.Add(FormattableString.Invariant($"{a:F4},{b:F4},{(a + b > 1 ? "yes" : "no")}"));
        }
        string csv = Path.Combine(_dir, "t.csv"), model = Path.Combine(_dir, "m.nabla");
        File.WriteAllLines(csv, lines);
        var job = MpiJob.Run(2, ["train", "--csv", csv, "--label", "label", "--epochs", "40", "--distributed", "--json", "--save", model], program: MpiJob.Cli);
        Assert.True(job.Code == 0, job.Error);
        Assert.Single(job.Out.Split('\n'), l => l.StartsWith('{'));
        Assert.True(File.Exists(model));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp*"));
        var predict = MpiJob.RunProgram(MpiJob.Cli, "evaluate", "--model", model, "--csv", csv);
        Assert.True(predict.Code == 0, predict.Error);
        Assert.Matches(@"accuracy\D+(0\.9|1\b)", predict.Out);
    }

    [SkippableFact]
    public void Bench_with_ranks_starts_mpirun_itself_and_reports_the_rank_count()
    {
        MpiJob.SkipUnlessInstalled(MpiJob.OpenMpiLauncher);
        var bench = MpiJob.RunProgram(MpiJob.Cli, "bench", "--ranks", "2", "--quick", "--only", "mlp-train");
        Assert.True(bench.Code == 0, bench.Error);
        string line = Assert.Single(bench.Out.Split('\n'), l => l.StartsWith('{'));
        Assert.Contains("\"workload\":\"mlp-train\",\"ranks\":2,", line, StringComparison.Ordinal);
    }
}
