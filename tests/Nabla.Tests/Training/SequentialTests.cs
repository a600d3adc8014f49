using Nabla.Callbacks;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;
using Nabla.Training;

namespace Nabla.Tests.Training;

public class SequentialTests
{
    /// <summary>A linearly separable two-class problem: label = x0 + x1 &gt; 0.</summary>
    private static (Tensor X, Tensor Y) Blobs(int n, ulong seed)
    {
        var x = Tensor.RandN([n, 2], new Generator(seed));
        var y = (x.Select(1, 0) + x.Select(1, 1)).Gt(0f).Unsqueeze(1);
        return (x, y);
    }

    private static Sequential Classifier()
    {
        var model = new Sequential(new Dense(8, "relu", inputFeatures: 2), new Dense(1, "sigmoid"));
        model.Compile("binary_crossentropy", new Adam(0.02f), "accuracy");
        return model;
    }

    [Fact]
    public void Fit_learns_and_records_history_with_validation()
    {
        Generator.ManualSeed(1);
        var (x, y) = Blobs(400, 2);
        var model = Classifier();
        History h = model.Fit(x, y, epochs: 15, batchSize: 32, validationSplit: 0.25f, verbose: 0);
        Assert.Equal(15, h.Epochs);
        Assert.Equal(["loss", "accuracy", "val_loss", "val_accuracy"], h.Keys.ToArray());
        Assert.True(h["loss"][^1] < h["loss"][0] / 2, $"loss {h["loss"][0]} -> {h["loss"][^1]}");
        Assert.True(h["val_accuracy"][^1] >= 0.95f, $"val accuracy {h["val_accuracy"][^1]}");
        var eval = model.Evaluate(x.Slice(0, 300), y.Slice(0, 300));
        Assert.Equal(h["val_loss"][^1], eval["loss"], 4);
        Assert.Throws<KeyNotFoundException>(() => h["val_auc"]);
    }

    [Fact]
    public void Same_seed_gives_identical_training_and_predict_matches_forward()
    {
        var (x, y) = Blobs(100, 3);
        float[] Run()
        {
            Generator.ManualSeed(7);
            var model = Classifier();
            model.Fit(x, y, epochs: 3, batchSize: 16, verbose: 0);
            return model.Predict(x, batchSize: 7).ToArray();
        }
        Assert.Equal(Run(), Run());
        Generator.ManualSeed(7);
        var m = Classifier();
        m.Eval();
        using (Tensor.NoGrad()) Assert.Equal(m.Forward(x).ToArray(), m.Predict(x, batchSize: 9).ToArray());
    }

    [Fact]
    public void Summary_lists_layers_shapes_and_parameter_counts()
    {
        var model = new Sequential(new Dense(4, "relu", inputFeatures: 2), new Dropout(0.2f), new BatchNormalization(), new Dense(1, "sigmoid"));
        string s = model.Summary(TextWriter.Null);
        Assert.Contains("dense (Dense)", s);
        Assert.Contains("dropout (Dropout)", s);
        Assert.Contains("batch_normalization (BatchNormalization)", s);
        Assert.Contains("dense_1 (Dense)", s);
        Assert.Contains("(None, 4)", s);
        Assert.Contains("(None, 1)", s);
        // 2*4+4 + 4+4 (BN scale, shift) + 4+1 = 25 trainable; BN buffers 4+4+1 = 9 non-trainable.
        Assert.Contains("Trainable params: 25 ", s);
        Assert.Contains("Non-trainable params: 9 ", s);
        Assert.Contains("Total params: 34 ", s);
        var unbuilt = new Sequential(new Dense(3));
        Assert.Contains("Build", Assert.Throws<InvalidOperationException>(() => unbuilt.Summary(TextWriter.Null)).Message);
    }

    [Fact]
    public void Misuse_gets_clear_errors()
    {
        var model = new Sequential(new Dense(1, inputFeatures: 2));
        var ex = Assert.Throws<InvalidOperationException>(() => model.Fit(Tensor.Ones(4, 2), Tensor.Ones(4, 1), verbose: 0));
        Assert.Contains("compile", ex.Message);
        Assert.Throws<ArgumentNullException>(() => model.Compile(null!, "adam"));
        model.Compile("mse", "sgd");
        var ex2 = Assert.Throws<ArgumentException>(() => model.Fit(Tensor.Ones(4, 2), Tensor.Ones(5, 1), verbose: 0));
        Assert.Contains("[4, 2]", ex2.Message);
        Assert.Contains("[5, 1]", ex2.Message);
        var ex3 = Assert.Throws<ArgumentException>(() => model.Fit(Tensor.Ones(4, 3), Tensor.Ones(4, 1), verbose: 0));
        Assert.Contains("Dense 'dense'", ex3.Message);
        Assert.Throws<ArgumentException>(() => model.Compile("bogus_loss", "adam"));
        Assert.Throws<ArgumentException>(() => model.Compile("mse", "bogus_optimizer"));
    }

    [Fact]
    public void A_nan_loss_stops_fit_naming_epoch_and_batch_unless_opted_out()
    {
        Generator.ManualSeed(1);
        var x = Tensor.RandN([10, 2], new Generator(1));
        float[] data = x.ToArray();
        data[5 * 2] = float.NaN; // sample 5 is in batch 3 when batches of 2 are not shuffled
        x = Tensor.FromArray(data, 10, 2);
        var model = new Sequential(new Dense(1, inputFeatures: 2));
        model.Compile("mse", "sgd");
        var ex = Assert.Throws<TrainingDivergedException>(() => model.Fit(x, Tensor.Zeros(10, 1), epochs: 2, batchSize: 2, shuffle: false, verbose: 0));
        Assert.Equal(1, ex.Epoch);
        Assert.Equal(3, ex.Batch);
        Assert.Contains("epoch 1, batch 3", ex.Message);
        var h = model.Fit(x, Tensor.Zeros(10, 1), epochs: 1, batchSize: 2, shuffle: false, verbose: 0, terminateOnNaN: false);
        Assert.True(float.IsNaN(h["loss"][0]));
    }

    [Fact]
    public void Progress_output_has_one_line_per_epoch_at_verbose_two_and_a_bar_at_one()
    {
        var (x, y) = Blobs(64, 4);
        var model = Classifier();
        var two = new StringWriter();
        model.Fit(x, y, epochs: 3, batchSize: 16, verbose: 2, output: two);
        string[] lines = two.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("Epoch 3/3 - ", lines[2]);
        Assert.Contains("loss: ", lines[2]);
        Assert.Contains("accuracy: ", lines[2]);
        var one = new StringWriter();
        model.Fit(x, y, epochs: 1, batchSize: 16, verbose: 1, output: one);
        Assert.Contains("Epoch 1/1", one.ToString());
        Assert.Contains("4/4 [==============================]", one.ToString());
    }
}
