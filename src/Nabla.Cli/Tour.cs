using Nabla.Examples;

namespace Nabla.Cli;

/// <summary>The default job: the textbook XOR networks, then the recommended recipe with Keras-style training.</summary>
internal static class Tour
{
    public static int Run(TextWriter output)
    {
        output.WriteLine("Nabla tour 1/2: XOR the textbook way (plain gradient descent, custom training loop)");
        output.WriteLine();
        TextbookXor.Train(TextbookXor.Naive, seed: 1, output);
        output.WriteLine($"  learned XOR from {TextbookXor.CountLearned(TextbookXor.Naive, 20)} of 20 seeds: stuck near loss 0.25 with every output near 0.5.");
        output.WriteLine("  Without biases every neuron's boundary passes through the origin, and all-positive small weights");
        output.WriteLine("  start the sigmoids in a flat, nearly symmetric region where the gradients barely move them.");
        output.WriteLine();
        TextbookXor.Train(TextbookXor.Fixed, seed: 1, output);
        output.WriteLine($"  learned XOR from {TextbookXor.CountLearned(TextbookXor.Fixed, 20)} of 20 seeds.");
        output.WriteLine();
        output.WriteLine("Nabla tour 2/2: XOR the Keras way (Sequential, Compile, Fit, Adam)");
        var result = new XorExample().Run(new ExampleOptions(Verbose: 1), output);
        output.WriteLine(result.ToJson());
        return 0;
    }
}
