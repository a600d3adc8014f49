// Inference from a saved model in a NativeAOT executable (no .NET runtime needed where it runs):
//   dotnet publish samples/AotInference -c Release -r linux-x64
//   samples/AotInference/bin/Release/net10.0/linux-x64/publish/AotInference MODEL.nabla 0.5,1.2,...
// Without arguments it trains a small XOR network, saves it, loads it back and predicts, so the
// whole path (training, model file, loading, inference) runs compiled ahead of time.
using System.Globalization;
using Nabla;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

if (args.Length == 2)
{
    Sequential model = Sequential.Load(args[0]);
    float[] input = args[1].Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
    float[] output = model.Predict(Tensor.FromArray(input, 1, input.Length)).ToArray();
    Console.WriteLine(string.Join(",", output.Select(v => v.ToString("G6", CultureInfo.InvariantCulture))));
    return 0;
}

var x = Tensor.FromArray([0f, 0f, 0f, 1f, 1f, 0f, 1f, 1f], 4, 2);
var y = Tensor.FromArray([0f, 1f, 1f, 0f], 4, 1);
Generator.ManualSeed(1);
var xor = new Sequential(new Dense(8, "tanh", inputFeatures: 2), new Dense(1, "sigmoid"));
xor.Compile(new BinaryCrossEntropy(), new Adam(0.05f), "accuracy");
xor.Fit(x, y, epochs: 300, batchSize: 4, verbose: 0);
string path = Path.Combine(Path.GetTempPath(), "nabla-aot-xor.nabla");
xor.Save(path);
var loaded = Sequential.Load(path);
float[] p = loaded.Predict(x).ToArray();
Console.WriteLine($"XOR after a save and load: {string.Join(" ", p.Select(v => v.ToString("F3", CultureInfo.InvariantCulture)))}");
File.Delete(path);
return p[0] < 0.5f && p[1] > 0.5f && p[2] > 0.5f && p[3] < 0.5f ? 0 : 1;
