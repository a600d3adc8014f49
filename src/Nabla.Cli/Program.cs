

namespace Nabla.Cli;

/// <summary>The <c>nabla</c> command. With no arguments it runs the built-in default: XOR.</summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static int Main(string[] args)
    {
        try
        {
            string command = args.Length == 0 ? "xor" : args[0];
            switch (command)
            {
                case "xor":
                    return XorDemo.Run(Console.Out);
                case "--help" or "-h" or "help":
                    PrintHelp();
                    return 0;
                default:
                    Console.Error.WriteLine($"nabla: unknown command '{command}'.");
                    PrintHelp();
                    return 2;
            }
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
        {
            Console.Error.WriteLine($"nabla: {e.Message}");
            return 1;
        }
    }

    private static void PrintHelp()
    {
        Console.Error.WriteLine("""
            usage: nabla [command]

            commands:
              xor     train a 2-4-1 network on XOR with automatic differentiation (the default)
              help    show this text
            """);
    }
}
