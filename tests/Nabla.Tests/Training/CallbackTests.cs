using Nabla.Callbacks;
using Nabla.Layers;
using Nabla.Optimizers;

namespace Nabla.Tests.Training;

public class CallbackTests
{
    /// <summary>A model that overfits random labels: validation loss rises after a few epochs.</summary>
    private static (Sequential Model, Tensor X, Tensor Y, Tensor VX, Tensor VY) Overfitting()
    {
        Generator.ManualSeed(5);
        var g = new Generator(6);
        var x = Tensor.RandN([64, 10], g);
        var y = Tensor.Rand([64, 1], g).Gt(0.5f);
        var vx = Tensor.RandN([64, 10], g);
        var vy = Tensor.Rand([64, 1], g).Gt(0.5f);
        var model = new Sequential(new Dense(128, "relu", inputFeatures: 10), new Dense(1, "sigmoid"));
        model.Compile("binary_crossentropy", new Adam(0.01f), "accuracy");
        return (model, x, y, vx, vy);
    }

    [Fact]
    public void Early_stopping_stops_and_restores_the_best_weights()
    {
        var (model, x, y, vx, vy) = Overfitting();
        var stop = new EarlyStopping("val_loss", patience: 2, restoreBestWeights: true);
        var h = model.Fit(x, y, epochs: 100, batchSize: 16, validationData: (vx, vy), callbacks: [stop], verbose: 0);
        Assert.True(h.Epochs < 100, "training should stop early");
        Assert.Equal(h.Epochs, stop.StoppedEpoch);
        Assert.Equal(stop.BestEpoch + 3, stop.StoppedEpoch);
        float best = h["val_loss"].Min();
        Assert.Equal(best, h["val_loss"][stop.BestEpoch - 1]);
        Assert.Equal(best, model.Evaluate(vx, vy)["loss"], 5);
        Assert.Contains("val_loss", Assert.Throws<InvalidOperationException>(() =>
            model.Fit(x, y, epochs: 1, callbacks: [new EarlyStopping("val_loss")], verbose: 0)).Message);
    }

    [Fact]
    public void Model_checkpoint_saves_weights_that_load_back()
    {
        var (model, x, y, vx, vy) = Overfitting();
        string dir = Path.Combine(Path.GetTempPath(), "nabla-ckpt-" + Guid.NewGuid().ToString("N"));
        try
        {
            var ckpt = new ModelCheckpoint(Path.Combine(dir, "epoch{epoch}.safetensors"));
            model.Fit(x, y, epochs: 3, batchSize: 16, validationData: (vx, vy), callbacks: [ckpt], verbose: 0);
            Assert.Equal(3, ckpt.Saved.Count);
            Assert.All(ckpt.Saved, f => Assert.True(File.Exists(f)));
            Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
            var fresh = new Sequential(new Dense(128, "relu", inputFeatures: 10), new Dense(1, "sigmoid"));
            fresh.LoadWeights(ckpt.Saved[^1]);
            Assert.Equal(model.Predict(vx).ToArray(), fresh.Predict(vx).ToArray());
            var best = new ModelCheckpoint(Path.Combine(dir, "best.safetensors"), saveBestOnly: true);
            model.Fit(x, y, epochs: 6, batchSize: 16, validationData: (vx, vy), callbacks: [best], verbose: 0);
            Assert.InRange(best.Saved.Count, 1, 5);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Reduce_lr_on_plateau_lowers_the_learning_rate()
    {
        var model = new Sequential(new Dense(1, inputFeatures: 1));
        var sgd = new SGD(1e-9f);
        model.Compile("mse", sgd);
        var cb = new ReduceLROnPlateau("loss", factor: 0.5f, patience: 2);
        model.Fit(Tensor.Ones(8, 1), Tensor.Zeros(8, 1), epochs: 5, callbacks: [cb], verbose: 0);
        // No improvement after epoch 1: reductions after epochs 3 and 5.
        Assert.Equal(1e-9f * 0.25f, sgd.LearningRate, 15);
    }

    [Fact]
    public void Csv_logger_and_lambda_callback_see_every_epoch()
    {
        string path = Path.GetTempFileName();
        try
        {
            var (model, x, y, vx, vy) = Overfitting();
            int epochs = 0, batches = 0;
            var lambda = new LambdaCallback(onEpochEnd: (e, logs) => epochs++, onBatchEnd: (b, logs) => batches++);
            model.Fit(x, y, epochs: 3, batchSize: 16, validationData: (vx, vy), callbacks: [new CsvLogger(path), lambda], verbose: 0);
            Assert.Equal(3, epochs);
            Assert.Equal(12, batches);
            string[] lines = File.ReadAllLines(path);
            Assert.Equal("epoch,loss,accuracy,val_loss,val_accuracy", lines[0]);
            Assert.Equal(4, lines.Length);
            Assert.StartsWith("3,", lines[3]);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
