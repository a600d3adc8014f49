using Nabla.Autograd;
using Nabla.Callbacks;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

namespace Nabla.Tests.Trust;

public class TrustTests
{
    private static float[] TrainAndPredict(Func<Sequential> make, Tensor x, Tensor y, Loss loss)
    {
        Generator.ManualSeed(11);
        Sequential model = make();
        model.Compile(loss, new Adam(1e-2f));
        model.Fit(x, y, epochs: 2, batchSize: 8, verbose: 0);
        float[] weights = model.Parameters().SelectMany(p => p.Value.ToArray()).ToArray();
        return [.. weights, .. model.Predict(x).ToArray()];
    }

    public static IEnumerable<object[]> Models() => [["mlp"], ["cnn"], ["lstm"]];

    [Theory]
    [MemberData(nameof(Models))]
    public void One_seed_makes_training_bit_for_bit_repeatable(string kind)
    {
        var g = new Generator(3);
        (Func<Sequential> make, Tensor x) = kind switch
        {
            "mlp" => ((Func<Sequential>)(() => new Sequential(new Dense(16, "relu", inputFeatures: 6), new Dropout(0.3f), new Dense(3))), Tensor.RandN([32, 6], g)),
            "cnn" => (() => new Sequential(new Conv2D(4, 3, padding: "same", activation: "relu", inputShape: [1, 8, 8]), new MaxPooling2D(2),
                new BatchNormalization(), new Flatten(), new Dense(3)), Tensor.RandN([32, 1, 8, 8], g)),
            _ => (() => new Sequential(new LSTM(8, inputShape: [5, 3]), new Dense(3)), Tensor.RandN([32, 5, 3], g)),
        };
        Tensor y = Tensor.FromArray(Enumerable.Range(0, 32).Select(i => (float)(i % 3)).ToArray());
        var loss = new SparseCategoricalCrossEntropy(fromLogits: true);
        float[] first = TrainAndPredict(make, x, y, loss);
        float[] second = TrainAndPredict(make, x, y, loss);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Predict_from_eight_threads_matches_sequential_calls()
    {
        Generator.ManualSeed(5);
        var model = new Sequential(new Dense(32, "relu", inputFeatures: 10), new Dropout(0.5f), new BatchNormalization(), new Dense(4));
        model.Compile("mse", "adam");
        var g = new Generator(6);
        model.Fit(Tensor.RandN([64, 10], g), Tensor.RandN([64, 4], g), epochs: 2, verbose: 0);
        Tensor[] inputs = Enumerable.Range(0, 8).Select(i => Tensor.RandN([50, 10], new Generator((ulong)(100 + i)))).ToArray();
        float[][] sequential = inputs.Select(x => model.Predict(x, batchSize: 7).ToArray()).ToArray();
        var parallel = new float[8][];
        var threads = Enumerable.Range(0, 8).Select(i => new Thread(() =>
        {
            for (int r = 0; r < 20; r++) parallel[i] = model.Predict(inputs[i], batchSize: 7).ToArray();
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        for (int i = 0; i < 8; i++) Assert.Equal(sequential[i], parallel[i]);
        Assert.True(model.IsTraining); // predicting never changed the model's own mode
    }

    [Fact]
    public void Anomaly_mode_names_the_op_and_layer_of_a_log_of_zero()
    {
        var model = new Sequential(new Dense(1, inputFeatures: 1, kernelInitializer: new Nabla.Initializers.Zeros()),
            new Activation(new ActivationFunction("log", t => t.Log())));
        model.Compile("mse", "sgd");
        var x = Tensor.Ones(4, 1);
        var y = Tensor.Zeros(4, 1);
        using (AnomalyMode.Detect())
        {
            var ex = Assert.Throws<NumericalAnomalyException>(() => model.Fit(x, y, epochs: 1, verbose: 0));
            Assert.Equal("LogBackward", ex.Op);
            Assert.Equal("forward", ex.Phase);
            Assert.Contains("activation", ex.Layer);
            Assert.Equal("epoch 1, batch 1", ex.Step);
            Assert.Contains("-Infinity", ex.Message);
        }
        // Without anomaly mode the same run stops on the loss instead, naming epoch and batch.
        Assert.Throws<Nabla.Training.TrainingDivergedException>(() => model.Fit(x, y, epochs: 1, verbose: 0));
    }

    [Fact]
    public void Anomaly_mode_catches_an_exploding_learning_rate_at_its_first_op()
    {
        Generator.ManualSeed(7);
        var model = new Sequential(new Dense(16, "relu", inputFeatures: 4), new Dense(16, "relu"), new Dense(1));
        model.Compile("mse", new SGD(1e4f));
        var g = new Generator(8);
        using var _ = AnomalyMode.Detect();
        var ex = Assert.Throws<NumericalAnomalyException>(() => model.Fit(Tensor.RandN([64, 4], g), Tensor.RandN([64, 1], g), epochs: 20, batchSize: 8, verbose: 0));
        Assert.EndsWith("Backward", ex.Op);
        Assert.NotNull(ex.Step);
        Assert.Contains("epoch", ex.Message);
    }

    [Fact]
    public void Terminate_on_nan_stops_training_and_keeps_the_history()
    {
        Generator.ManualSeed(9);
        var model = new Sequential(new Dense(8, "relu", inputFeatures: 4), new Dense(1));
        model.Compile("mse", new SGD(1e5f));
        var g = new Generator(10);
        var stop = new TerminateOnNaN();
        var h = model.Fit(Tensor.RandN([64, 4], g), Tensor.RandN([64, 1], g), epochs: 50, batchSize: 8, verbose: 0, terminateOnNaN: false, callbacks: [stop]);
        Assert.NotNull(stop.StoppedAt);
        Assert.Equal(stop.StoppedAt!.Value.Epoch, h.Epochs);
        Assert.True(h.Epochs < 50);
    }
}
