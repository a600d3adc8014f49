// Data-parallel training on several processes: both styles, Keras's Fit and a loop of your own.
//   dotnet build samples/Distributed -c Release
//   mpirun -np 2 --bind-to none dotnet samples/Distributed/bin/Release/net10.0/Distributed.dll
// (as root add --allow-run-as-root; docs/DISTRIBUTED.md explains each choice). Started without
// mpirun it runs as a group of one and gives the same figures.
using Nabla;
using Nabla.Data;
using Nabla.Distributed;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

var ranks = MpiCommunicator.World;
Console.Error.WriteLine(ranks.Greeting);
bool lead = ranks.Rank == 0;

// Every rank builds the same data and model (the same seeds); Fit splits each global batch of
// 64 rows over the ranks and sums their gradients, so all ranks take the same steps.
Tensor Points(Generator g, int n) => Tensor.Uniform([n, 2], -2f, 2f, g);
Tensor Labels(Tensor xs) => Tensor.FromArray([.. Enumerable.Range(0, xs.Shape[0]).Select(i => xs[i, 1] > MathF.Sin(3 * xs[i, 0]) / 2 ? 1f : 0f)]);
var data = new Generator(1);
Tensor x = Points(data, 2048), y = Labels(x), testX = Points(data, 512), testY = Labels(testX);

Generator.ManualSeed(0);
var model = new Sequential(new Input(2), new Dense(64, "relu"), new Dropout(0.1f), new Dense(64, "relu"), new Dense(1));
model.Compile(new BinaryCrossEntropy(fromLogits: true), new Adam(3e-3f), "accuracy");
var history = model.Fit(x, y.Reshape(-1, 1), epochs: 20, batchSize: 64, validationSplit: 0.1f, verbose: lead ? 2 : 0, distributed: ranks);
var test = model.Evaluate(testX, testY.Reshape(-1, 1));
if (lead) Console.WriteLine($"Fit on {ranks.Size} rank(s): test accuracy {test["accuracy"]:P1}, final val_loss {history["val_loss"][^1]:F4}");

// The same in a loop of your own: DataParallel sums the gradients during backward.
Generator.ManualSeed(0);
var net = new Sequential(new Input(2), new Dense(64, "relu"), new Dense(64, "relu"), new Dense(1));
var optimizer = new Adam(3e-3f, parameters: net.Parameters());
var ddp = new DataParallel(net, ranks, optimizer);
var loss = new BinaryCrossEntropy(fromLogits: true);
var loader = new DataLoader(new TensorDataset(x, y.Reshape(-1, 1)), batchSize: 64, shuffle: true, seed: 7);
for (int epoch = 0; epoch < 20; epoch++)
{
    // Each rank takes its part of every (identically shuffled) global batch.
    foreach (var (batch, _, _) in loader.Shards(ranks.Rank, ranks.Size))
    {
        if (batch is null) continue;
        using var step = Tensor.StepScope();
        optimizer.ZeroGrad();
        ddp.Backward(loss.Compute(net.Forward(batch.X), batch.Y));
        optimizer.Step();
    }
}
using (Tensor.NoGrad())
{
    float correct = (net.Forward(testX).Reshape(-1).Gt(0f).Eq(testY)).Mean().Item();
    // Every rank compares its parameters' checksum with rank 0's; the mismatches are counted.
    ulong mine = ddp.ParameterChecksum();
    byte[] bytes = BitConverter.GetBytes(mine);
    ranks.Broadcast(bytes, 0);
    double[] differ = [BitConverter.ToUInt64(bytes) == mine ? 0 : 1];
    ranks.AllReduceSum(differ.AsSpan());
    if (lead) Console.WriteLine($"own loop on {ranks.Size} rank(s): test accuracy {correct:P1}; ranks whose parameters differ from rank 0's: {differ[0]}");
}
