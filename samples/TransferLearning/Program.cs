// Transfer learning from an imported ONNX model:
//   dotnet run --project samples/TransferLearning -c Release [-- MODEL.onnx [LABELLED_IMAGES]]
// The base is the Fashion-MNIST CNN that scripts/make-onnx-fixtures.py trains in PyTorch and exports.
// The new task: four coarse classes (tops, bottoms, footwear, bags) from only a few labelled images.
// 1. the imported network up to its 64 features, frozen, with a new head trained on top;
// 2. then everything unfrozen and fine-tuned with a small learning rate;
// 3. beside the same network trained from scratch on the same few images.
// Needs Fashion-MNIST: bash scripts/install-data.sh.
using Nabla;
using Nabla.Data;
using Nabla.Examples;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Onnx;
using Nabla.Optimizers;

string onnx = args.Length > 0 ? args[0] : Path.Combine("tests", "Nabla.Onnx.Tests", "Fixtures", "fashion_cnn.onnx");
int labelled = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 200;
Generator.ManualSeed(7);
var (train, test) = FashionMnist.Load();

// Fashion-MNIST's ten classes folded into four: tops, bottoms, footwear, bags.
int[] coarse = [0, 1, 0, 1, 0, 2, 0, 2, 3, 2];
Tensor Coarse(Tensor labels) => Tensor.FromArray([.. labels.ToArray().Select(l => (float)coarse[(int)l])]);
Tensor x = train.Images.Slice(0, 0, labelled).Contiguous(), y = Coarse(train.Labels.Slice(0, 0, labelled));
Tensor yTest = Coarse(test.Labels);

// The imported graph, returning the features its last layer reads (the output of the ReLU before it).
var graph = OnnxGraph.Load(onnx);
var features = new OnnxGraphLayer(graph, output: "/10/Relu_output_0", name: "pretrained");
var image = new Input("image", 1, 28, 28);
var head = new Dense(4, name: "head");
var model = new Model(image, head.Apply(features.Apply(image)), "transfer");

float Accuracy(Model m) => m.Evaluate(test.Images, yTest, batchSize: 256)["accuracy"];

features.Trainable = false;
model.Compile(new SparseCategoricalCrossEntropy(fromLogits: true), new Adam(1e-2f), "accuracy");
model.Summary();
model.Fit(x, y, epochs: 20, batchSize: 32, verbose: 0);
float frozen = Accuracy(model);
Console.WriteLine($"frozen base, new head trained on {labelled} images: test accuracy {frozen:P2}");

features.Trainable = true;
model.Compile(new SparseCategoricalCrossEntropy(fromLogits: true), new Adam(1e-4f), "accuracy");
model.Fit(x, y, epochs: 5, batchSize: 32, verbose: 0);
float tuned = Accuracy(model);
Console.WriteLine($"then all layers fine-tuned (learning rate 1e-4): test accuracy {tuned:P2}");

Generator.ManualSeed(7);
var scratch = FashionCnnExample.Build(1, 28, 28, 4);
scratch.Compile(new SparseCategoricalCrossEntropy(fromLogits: true), new Adam(1e-3f), "accuracy");
scratch.Fit(x, y, epochs: 15, batchSize: 32, verbose: 0);
Console.WriteLine($"the same kind of network from scratch on the same {labelled} images: test accuracy {Accuracy(scratch):P2}");
