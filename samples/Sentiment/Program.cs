// Text classification from a labelled text file: dotnet run --project samples/Sentiment [-- FILE...]
// Reads `sentence<TAB>label` lines (default: the three sentiment-sentences files beside the
// project), splits them as scikit-learn's stratified train_test_split(random_state=0) would,
// turns words into ids and trains Embedding -> bidirectional GRU -> max over steps -> Dense.
using Nabla;
using Nabla.Data;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

string dir = "../shared/datasets/sentiment-sentences";
string[] files = args.Length > 0 ? args : ["amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt"];
var corpus = LabelledText.ReadAll(files.Select(f => File.Exists(f) ? f : Path.Combine(dir, f)).ToArray());
float[] labels = corpus.ClassIndices();
var (train, test) = TrainTestSplit.Stratified(labels, testFraction: 0.2, seed: 0);

var tokenizer = new Tokenizer(Lowercase: true, KeepPunctuation: false);
var tokens = corpus.Texts.Select(t => (IReadOnlyList<string>)tokenizer.Tokenize(t)).ToList();
var vocabulary = Vocabulary.Build(train.Select(i => tokens[i]), minFrequency: 1);
Tensor Ids(int[] rows) => vocabulary.Encode(rows.Select(i => tokens[i]).ToList(), length: 32);
Tensor Labels(int[] rows) => Tensor.FromArray(rows.Select(i => labels[i]).ToArray(), rows.Length, 1);
Console.WriteLine($"{corpus.Count} texts, classes {string.Join("/", corpus.Classes)}, {train.Length} training, {test.Length} test, vocabulary {vocabulary.Count}");

Generator.ManualSeed(42);
var model = new Sequential(
    new Embedding(vocabulary.Count, 64, paddingIndex: Vocabulary.Padding, inputLength: 32), // padding masked in the GRU
    new Dropout(0.5f),
    new Bidirectional(new GRU(64, returnSequences: true)),
    new GlobalMaxOverSteps(),
    new Dropout(0.5f),
    new Dense(1, "sigmoid"));
model.Compile(new BinaryCrossEntropy(), new Adam(3e-3f), "accuracy");
model.Fit(Ids(train), Labels(train), epochs: 4, batchSize: 32, verbose: 2);
Console.WriteLine($"test accuracy {model.Evaluate(Ids(test), Labels(test))["accuracy"]:P1}");

foreach (string review in new[] { "The battery lasts all day, great value.", "Worst service ever, cold food." })
{
    float p = model.Predict(vocabulary.Encode([tokenizer.Tokenize(review)], 32)).Item();
    Console.WriteLine($"{p:F2}  {review}");
}

/// <summary>Max over the time axis: [N, T, D] to [N, D].</summary>
sealed class GlobalMaxOverSteps() : Layer(null)
{
    public override string TypeName => "GlobalMaxOverSteps";

    protected override Tensor Call(Tensor input) => input.Max(1);
}
