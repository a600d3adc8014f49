using System.Diagnostics;

namespace Nabla.Distributed.Tests;

/// <summary>Starts the test worker as an MPI job (Open MPI's mpirun or MPICH's mpiexec) under a timeout and collects its output.</summary>
internal static class MpiJob
{
    public const string OpenMpiLauncher = "/usr/bin/mpirun.openmpi";
    public const string MpichLauncher = "/usr/bin/mpiexec.mpich";

    /// <summary>The worker's dll, built beside this test project (same configuration).</summary>
    public static string Worker
    {
        get
        {
            string here = AppContext.BaseDirectory; // tests/Nabla.Distributed.Tests/bin/<Configuration>/net10.0/
            var dir = new DirectoryInfo(here);
            string configuration = dir.Parent!.Name;
            string tests = dir.Parent!.Parent!.Parent!.Parent!.FullName;
            string path = Path.Combine(tests, "Nabla.Distributed.Worker", "bin", configuration, "net10.0", "Nabla.Distributed.Worker.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"The distributed test worker was not built at {path}.");
        }
    }

    /// <summary>The nabla command's dll, built for these tests (same configuration).</summary>
    public static string Cli
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            string configuration = dir.Parent!.Name;
            string root = dir.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
            string path = Path.Combine(root, "src", "Nabla.Cli", "bin", configuration, "net10.0", "Nabla.Cli.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"The nabla command was not built at {path}.");
        }
    }

    public static void SkipUnlessInstalled(string launcher) =>
        Skip.IfNot(File.Exists(launcher), $"{launcher} is not installed (bash scripts/install-mpi.sh installs Open MPI and MPICH).");

    /// <summary>Runs <c>launcher -np ranks dotnet Worker args</c>; kills the job when it outlives <paramref name="timeout"/>.</summary>
    public static (int Code, string Out, string Error, TimeSpan Elapsed) Run(int ranks, string[] args, string launcher = OpenMpiLauncher,
        string[]? launcherOptions = null, TimeSpan? timeout = null, string? program = null)
    {
        var start = new ProcessStartInfo(launcher) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (launcher == OpenMpiLauncher)
        {
            // CI runs as root; two ranks may share a core on a small machine.
            foreach (string a in new[] { "--allow-run-as-root", "--oversubscribe" }) start.ArgumentList.Add(a);
        }
        foreach (string a in launcherOptions ?? []) start.ArgumentList.Add(a);
        start.ArgumentList.Add(launcher == OpenMpiLauncher ? "-np" : "-n");
        start.ArgumentList.Add(ranks.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(program ?? Worker);
        foreach (string a in args) start.ArgumentList.Add(a);
        return Wait(start, timeout ?? TimeSpan.FromSeconds(120), $"MPI job {string.Join(' ', args)} on {ranks} ranks");
    }

    /// <summary>Runs the worker alone (not under MPI).</summary>
    public static (int Code, string Out, string Error) RunAlone(params string[] args) => RunProgram(Worker, args);

    /// <summary>Runs <c>dotnet program args</c> (not under MPI), under a timeout.</summary>
    public static (int Code, string Out, string Error) RunProgram(string program, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(program);
        foreach (string a in args) start.ArgumentList.Add(a);
        var (code, output, error, _) = Wait(start, TimeSpan.FromSeconds(120), $"{Path.GetFileName(program)} {string.Join(' ', args)}");
        return (code, output, error);
    }

    /// <summary>Starts the process, collects its output and kills its tree when it outlives <paramref name="timeout"/>.</summary>
    private static (int Code, string Out, string Error, TimeSpan Elapsed) Wait(ProcessStartInfo start, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{what} did not end within {timeout}: {stderr.Result}");
        }
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result, clock.Elapsed);
    }
}
