using Nabla.IO;
using Nabla.Layers;
using Nabla.Optimizers;

namespace Nabla.Tests.IO;

public class ModelFileTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "nabla-model-" + Guid.NewGuid().ToString("N"));

    public ModelFileTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (Sequential Model, Tensor X, Tensor Y) Trained()
    {
        Generator.ManualSeed(1);
        var model = new Sequential(new Dense(8, "relu", inputFeatures: 3), new BatchNormalization(), new Dense(2)) { Name = "tiny" };
        model.Compile(new Nabla.Losses.SparseCategoricalCrossEntropy(fromLogits: true), new Adam(0.01f), "accuracy");
        var g = new Generator(2);
        var x = Tensor.RandN([40, 3], g);
        var y = Tensor.FromArray(Enumerable.Range(0, 40).Select(i => (float)(i % 2)).ToArray());
        model.Fit(x, y, epochs: 2, batchSize: 8, verbose: 0);
        return (model, x, y);
    }

    [Fact]
    public void A_model_round_trips_with_architecture_compile_settings_and_optimizer_state()
    {
        var (model, x, y) = Trained();
        string path = Path.Combine(_dir, "m.nabla");
        model.Save(path, includeOptimizer: true);
        Sequential loaded = Sequential.Load(path);
        Assert.Equal("tiny", loaded.Name);
        Assert.Equal(model.Predict(x).ToArray(), loaded.Predict(x).ToArray());
        Assert.IsType<Nabla.Losses.SparseCategoricalCrossEntropy>(loaded.Loss);
        Assert.True(((Nabla.Losses.SparseCategoricalCrossEntropy)loaded.Loss!).FromLogits);
        Assert.Equal("accuracy", loaded.Metrics.Single().Name);
        var (it1, b1) = model.Optimizer!.GetState();
        var (it2, b2) = loaded.Optimizer!.GetState();
        Assert.Equal(it1, it2);
        Assert.Equal(b1.SelectMany(p => p.SelectMany(s => s)), b2.SelectMany(p => p.SelectMany(s => s)));
        // Training on from both gives the same weights: the optimizer's moments came along.
        Generator.ManualSeed(3);
        model.Fit(x, y, epochs: 1, batchSize: 8, verbose: 0);
        Generator.ManualSeed(3);
        loaded.Fit(x, y, epochs: 1, batchSize: 8, verbose: 0);
        Assert.Equal(model.Predict(x).ToArray(), loaded.Predict(x).ToArray());
    }

    [Fact]
    public void Bad_files_are_refused_naming_the_file_and_the_problem()
    {
        var (model, _, _) = Trained();
        string good = Path.Combine(_dir, "good.nabla");
        model.Save(good);
        byte[] bytes = File.ReadAllBytes(good);

        string truncated = Path.Combine(_dir, "truncated.nabla");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length - 10)]);
        var ex = Assert.Throws<InvalidDataException>(() => Sequential.Load(truncated));
        Assert.Contains("truncated.nabla", ex.Message);

        string weightsOnly = Path.Combine(_dir, "weights.safetensors");
        model.SaveWeights(weightsOnly);
        Assert.Contains("weights-only", Assert.Throws<InvalidDataException>(() => Sequential.Load(weightsOnly)).Message);

        // A newer format version, a missing tensor and a wrongly shaped one, written as real safetensors files.
        var (tensors, metadata) = SafeTensors.LoadWithMetadata(good);
        string newer = Path.Combine(_dir, "newer.nabla");
        SafeTensors.Save(newer, tensors, new Dictionary<string, string>(metadata) { ["version"] = "99" });
        Assert.Contains("version 99", Assert.Throws<InvalidDataException>(() => Sequential.Load(newer)).Message);

        string missing = Path.Combine(_dir, "missing.nabla");
        SafeTensors.Save(missing, tensors.Where(kv => kv.Key != "2.bias"), metadata);
        Assert.Contains("2.bias", Assert.Throws<InvalidDataException>(() => Sequential.Load(missing)).Message);

        string shaped = Path.Combine(_dir, "shaped.nabla");
        SafeTensors.Save(shaped, tensors.Select(kv => kv.Key == "0.weight" ? new KeyValuePair<string, Tensor>(kv.Key, Tensor.Zeros(8, 4)) : kv), metadata);
        var ex2 = Assert.Throws<InvalidDataException>(() => Sequential.Load(shaped));
        Assert.Contains("misshaped [0.weight ([8, 4] given", ex2.Message);

        Assert.Throws<FileNotFoundException>(() => Sequential.Load(Path.Combine(_dir, "absent.nabla")));
    }

    [Fact]
    public void Custom_activations_cannot_be_saved_by_name()
    {
        var model = new Sequential(new Dense(2, new ActivationFunction("cube", t => t * t * t), inputFeatures: 2));
        var ex = Assert.Throws<NotSupportedException>(() => model.Save(Path.Combine(_dir, "x.nabla")));
        Assert.Contains("cube", ex.Message);
    }
}

public class ResumeTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "nabla-resume-" + Guid.NewGuid().ToString("N"));

    public ResumeTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_run_interrupted_after_epoch_two_and_resumed_ends_with_the_same_weights_bit_for_bit()
    {
        var g = new Generator(5);
        var x = Tensor.RandN([48, 4], g);
        var y = Tensor.FromArray(Enumerable.Range(0, 48).Select(i => (float)(i % 3)).ToArray());
        Sequential Make()
        {
            var m = new Sequential(new Dense(16, "relu", inputFeatures: 4), new Dropout(0.3f), new BatchNormalization(), new Dense(3));
            m.Compile(new Nabla.Losses.SparseCategoricalCrossEntropy(fromLogits: true), new Adam(0.01f), "accuracy");
            return m;
        }
        Generator.ManualSeed(7);
        var uninterrupted = Make();
        var checkpoint = new Nabla.Callbacks.ModelCheckpoint(Path.Combine(_dir, "epoch{epoch}.nabla"), saveTrainingState: true);
        uninterrupted.Fit(x, y, epochs: 4, batchSize: 8, verbose: 0, callbacks: [checkpoint]);
        float[] expected = uninterrupted.Parameters().SelectMany(p => p.Value.ToArray()).ToArray();

        // Another process: only the checkpoint of epoch 2 survived.
        Generator.ManualSeed(12345);
        var (resumed, state) = Nabla.IO.ModelFile.LoadCheckpoint(Path.Combine(_dir, "epoch2.nabla"));
        Assert.Equal(2, state.Epoch);
        Generator.Default.SetState(state.Generator);
        var h = resumed.Fit(x, y, epochs: 4, batchSize: 8, verbose: 0, initialEpoch: state.Epoch);
        Assert.Equal(2, h.Epochs);
        Assert.Equal(expected, resumed.Parameters().SelectMany(p => p.Value.ToArray()).ToArray());
        Assert.Contains("training state", Assert.Throws<InvalidDataException>(() =>
        {
            string plain = Path.Combine(_dir, "plain.nabla");
            uninterrupted.Save(plain);
            Nabla.IO.ModelFile.LoadCheckpoint(plain);
        }).Message);
    }
}
