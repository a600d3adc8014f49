using Nabla.Examples;

namespace Nabla.Cli;

/// <summary>The <c>nabla</c> command. With no arguments it runs the built-in tour.</summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static int Main(string[] args)
    {
        try
        {
            if (args.Length == 0) return Tour.Run(Console.Out);
            return args[0] switch
            {
                "example" => RunExample(args[1..]),
                "tour" => Tour.Run(Console.Out),
                "bench" => Bench.Run(args[1..]),
                "--help" or "-h" or "help" => Help(0),
                _ => Fail($"unknown command '{args[0]}'."),
            };
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or FormatException)
        {
            Console.Error.WriteLine($"nabla: {e.Message}");
            return 1;
        }
    }

    private static int RunExample(string[] args)
    {
        var options = Options.Parse(args, ["--epochs", "--seed", "--data", "--limit"], ["--json"]);
        if (options.Positional.Count != 1)
            return Fail($"example needs one name: {string.Join(", ", Example.All.Select(e => e.Name))}.");
        Example example = Example.Get(options.Positional[0]);
        bool json = options.Flags.Contains("--json");
        var settings = new ExampleOptions(
            Epochs: options.Int("--epochs"),
            Seed: (ulong)(options.Int("--seed") ?? 42),
            Verbose: json ? 0 : 2,
            DataPath: options.Values.GetValueOrDefault("--data"),
            Limit: options.Int("--limit"));
        // With --json, progress goes to stderr and stdout ends with one JSON line.
        TextWriter log = json ? Console.Error : Console.Out;
        log.WriteLine($"example {example.Name}: {example.Description}");
        ExampleResult result = example.Run(settings, log);
        if (json) Console.Out.WriteLine(result.ToJson());
        else Console.Out.WriteLine(string.Join("  ", result.Metrics.Select(kv => $"{kv.Key} {kv.Value:G5}")) + $"  ({result.Seconds:F1} s)");
        return 0;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"nabla: {message}");
        Help(2);
        return 2;
    }

    private static int Help(int code)
    {
        (code == 0 ? Console.Out : Console.Error).WriteLine($"""
            usage: nabla [command]

            commands:
              (none), tour                        the textbook XOR networks: why the naive one fails, then one that learns
              example NAME [--epochs N] [--seed S] [--data DIR] [--limit N] [--json]
                                                  run a built-in example: {string.Join(", ", Example.All.Select(e => e.Name))}
              bench [--threads N] [--only a,b] [--quick]
                                                  the benchmark workloads, as JSON lines on stdout
              help                                show this text
            """);
        return code;
    }
}
