using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Nabla.Autograd;
using Nabla.IO;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;

namespace Nabla.Tests.Models;

/// <summary>The functional API: graphs of layers with several inputs and outputs, shared layers, merges and masks.</summary>
public class FunctionalModelTests
{
    private static string TempPath(string extension) => Path.Combine(Path.GetTempPath(), $"nabla-{Guid.NewGuid():N}{extension}");

    [Fact]
    public void A_residual_block_computes_what_it_says_and_its_gradients_check()
    {
        Generator.ManualSeed(1);
        var input = new Input(4);
        var inner = new Dense(4, "tanh");
        var head = new Dense(2);
        var model = new Model(input, head.Apply(new Add().Apply(inner.Apply(input), input)));
        Tensor x = Tensor.RandN([3, 4], new Generator(2));

        Tensor expected = head.Forward(inner.Forward(x) + x);
        Assert.Equal(expected.ToArray(), model.Forward(x).ToArray());
        Assert.Equal(["dense.weight", "dense.bias", "dense_1.weight", "dense_1.bias"], model.StateDict().Keys.ToArray());

        Tensor xg = x.Detach().RequireGrad();
        var result = GradCheck.Check(_ => model.Forward(xg), [xg, .. model.Parameters().Select(p => p.Value)]);
        Assert.True(result.Passed, result.Worst);
    }

    [Fact]
    public void A_layer_applied_twice_shares_one_set_of_weights()
    {
        var a = new Input("a", 3);
        var b = new Input("b", 3);
        var tower = new Dense(2, name: "tower");
        var model = new Model([a, b], [new Subtract().Apply(tower.Apply(a), tower.Apply(b))]);
        Assert.Equal(8, model.ParameterCount());
        Tensor x = Tensor.RandN([5, 3], new Generator(3));
        // The same input on both sides: the shared tower gives the same vectors, so the difference is zero.
        Assert.All(model.Forward([x, x])[0].ToArray(), v => Assert.Equal(0f, v));
        string summary = model.Summary(TextWriter.Null);
        Assert.Contains("Connected to", summary);
        Assert.Contains("tower[0][0], tower[1][0]", summary);
        Assert.Contains("a[0][0]", summary);
    }

    [Fact]
    public void Two_inputs_learn_a_function_of_both()
    {
        Generator.ManualSeed(4);
        var g = new Generator(5);
        Tensor u = Tensor.RandN([256, 3], g), v = Tensor.RandN([256, 2], g);
        Tensor y = (u.Sum(1, keepDim: true) - 2f * v.Sum(1, keepDim: true)).Tanh();
        var left = new Input("left", 3);
        var right = new Input("right", 2);
        var joined = new Concatenate().Apply(new Dense(8, "relu").Apply(left), new Dense(8, "relu").Apply(right));
        var model = new Model([left, right], [new Dense(1).Apply(new Dense(16, "tanh").Apply(joined))]);
        model.Compile("mse", new Adam(0.01f));
        float before = model.Evaluate([u, v], [y])["loss"];
        var history = model.Fit([u, v], [y], epochs: 60, batchSize: 32, verbose: 0);
        float after = model.Evaluate([u, v], [y])["loss"];
        Assert.True(after < 0.02f && after < before / 10, $"loss {before} -> {after}");
        Assert.Equal(60, history.Epochs);
        Assert.Equal([256, 1], model.Predict([u, v])[0].Shape.ToArray());
    }

    [Fact]
    public void Two_outputs_train_with_loss_weights_and_log_each_loss_and_metric()
    {
        Generator.ManualSeed(6);
        var g = new Generator(7);
        Tensor x = Tensor.RandN([200, 4], g);
        Tensor label = x.Sum(1).Gt(0f).Reshape(200, 1);
        var input = new Input(4);
        var shared = new Dense(16, "relu").Apply(input);
        var classify = new Dense(1, "sigmoid", name: "classify").Apply(shared);
        var reconstruct = new Dense(4, name: "reconstruct").Apply(shared);
        var model = new Model([input], [classify, reconstruct]);
        model.Compile([new BinaryCrossEntropy(), new MeanSquaredError()], new Adam(0.01f), lossWeights: [1f, 0.5f], metrics: [["accuracy"], []]);
        var history = model.Fit([x], [label, x], epochs: 40, batchSize: 20, validationSplit: 0.2f, verbose: 0);
        foreach (string key in new[] { "loss", "classify_loss", "reconstruct_loss", "classify_accuracy", "val_loss", "val_classify_loss", "val_reconstruct_loss", "val_classify_accuracy" })
            Assert.True(history.Contains(key), $"history has no {key}: {string.Join(", ", history.Keys)}");
        var result = model.Evaluate([x], [label, x]);
        Assert.Equal(result["classify_loss"] + 0.5f * result["reconstruct_loss"], result["loss"], 4);
        Assert.True(result["classify_accuracy"] > 0.9f, $"accuracy {result["classify_accuracy"]}");
        Assert.True(result["reconstruct_loss"] < history["reconstruct_loss"][0], "reconstruction did not improve");

        var progress = new StringWriter();
        model.Fit([x], [label, x], epochs: 1, batchSize: 50, verbose: 2, output: progress);
        Assert.Contains("classify_accuracy", progress.ToString());
        Assert.Contains("reconstruct_loss", progress.ToString());
    }

    [Fact]
    public void Inputs_and_targets_can_be_given_by_name()
    {
        Generator.ManualSeed(16);
        var price = new Input("price", 2);
        var size = new Input("size", 3);
        var joined = new Concatenate().Apply(price, size);
        var model = new Model([price, size], [new Dense(1, name: "cost").Apply(joined), new Dense(2, name: "kind").Apply(joined)]);
        model.Compile(["mse", "mse"], new SGD(0.05f));
        var g = new Generator(17);
        var x = new Dictionary<string, Tensor> { ["size"] = Tensor.RandN([16, 3], g), ["price"] = Tensor.RandN([16, 2], g) };
        var y = new Dictionary<string, Tensor> { ["kind"] = Tensor.RandN([16, 2], g), ["cost"] = Tensor.RandN([16, 1], g) };
        var byName = model.Evaluate(x, y);
        var byOrder = model.Evaluate([x["price"], x["size"]], [y["cost"], y["kind"]]);
        Assert.Equal(byOrder["loss"], byName["loss"]);
        model.Fit(x, y, epochs: 2, batchSize: 8, verbose: 0);
        Assert.Equal([16, 2], model.Predict(x)["kind"].Shape.ToArray());
        Assert.Contains("no input named 'weight'; its inputs are price, size",
            Assert.Throws<ArgumentException>(() => model.Predict(new Dictionary<string, Tensor> { ["weight"] = x["size"] })).Message);
        Assert.Contains("no tensor for output 'kind'",
            Assert.Throws<ArgumentException>(() => model.Evaluate(x, new Dictionary<string, Tensor> { ["cost"] = y["cost"] })).Message);
    }

    [Fact]
    public void Compile_checks_losses_weights_and_metrics_per_output()
    {
        var input = new Input(2);
        var model = new Model([input], [new Dense(1).Apply(input), new Dense(2).Apply(input)]);
        Assert.Contains("a loss for each of the 2 output(s)", Assert.Throws<ArgumentNullException>(() => model.Compile([new MeanSquaredError()], new Adam())).Message);
        Assert.Contains("per output", Assert.Throws<ArgumentException>(() => model.Compile("mse", "adam", "mae")).Message);
        Assert.Contains("lossWeights", Assert.Throws<ArgumentException>(() => model.Compile(["mse", "mse"], new Adam(), lossWeights: [1f, float.NaN])).Message);
        model.Compile("mse", "adam");
        Assert.Contains("2 output(s)", Assert.Throws<ArgumentException>(() => model.Fit([Tensor.Zeros(4, 2)], [Tensor.Zeros(4, 1)], verbose: 0)).Message);
        Assert.Contains("takes 1 input(s)", Assert.Throws<ArgumentException>(() => model.Evaluate([Tensor.Zeros(4, 2), Tensor.Zeros(4, 2)], [Tensor.Zeros(4, 1), Tensor.Zeros(4, 2)])).Message);
        Assert.Contains("samples of shape [2]", Assert.Throws<ArgumentException>(() => model.Predict([Tensor.Zeros(4, 3)])).Message);
    }

    [Fact]
    public void A_graph_that_needs_an_unlisted_input_or_reuses_a_name_is_refused()
    {
        var a = new Input(2);
        var b = new Input("b", 2);
        var sum = new Add().Apply(a, b);
        Assert.Contains("not among the model's inputs", Assert.Throws<ArgumentException>(() => new Model(a, sum)).Message);
        Assert.Contains("cannot be applied", Assert.Throws<ArgumentException>(() => new Input(2).Apply(a)).Message);
        var x = new Input(2);
        var clash = new Dense(2, name: "same").Apply(new Dense(2, name: "same").Apply(x));
        Assert.Contains("named 'same'", Assert.Throws<ArgumentException>(() => new Model(x, clash)).Message);
        Assert.Contains("one shape", Assert.Throws<ArgumentException>(() => new Add().Apply(new Input(2), new Input(3))).Message);
        Assert.Contains("every other dimension", Assert.Throws<ArgumentException>(() => new Concatenate().Apply(new Input(2, 3), new Input(3, 3))).Message);
        Assert.Contains("Sequential model does not have", Assert.Throws<ArgumentException>(() => new Sequential(new Dense(2), new Add())).Message);
    }

    [Theory]
    [InlineData("add")]
    [InlineData("subtract")]
    [InlineData("multiply")]
    [InlineData("average")]
    [InlineData("maximum")]
    [InlineData("concatenate")]
    [InlineData("dot")]
    [InlineData("dot-normalized")]
    [InlineData("dot-3d")]
    public void Merge_layers_match_their_definition_and_finite_differences(string kind)
    {
        var g = new Generator(8);
        bool three = kind == "dot-3d";
        Tensor a = (three ? Tensor.RandN([2, 3, 4], g) : Tensor.RandN([3, 4], g)).RequireGrad();
        Tensor b = (three ? Tensor.RandN([2, 5, 4], g) : Tensor.RandN([3, 4], g)).RequireGrad();
        Tensor c = Tensor.RandN([3, 4], g).RequireGrad();
        (Merge layer, Tensor[] inputs, Func<float[]> expected) = kind switch
        {
            "add" => ((Merge)new Add(), new[] { a, b, c }, (Func<float[]>)(() => (a + b + c).ToArray())),
            "subtract" => (new Subtract(), [a, b], () => (a - b).ToArray()),
            "multiply" => (new Multiply(), [a, b, c], () => (a * b * c).ToArray()),
            "average" => (new Average(), [a, b], () => ((a + b) * 0.5f).ToArray()),
            "maximum" => (new Maximum(), [a, b], () => a.ToArray().Zip(b.ToArray(), Math.Max).ToArray()),
            "concatenate" => (new Concatenate(), [a, b], () => Enumerable.Range(0, 3).SelectMany(r => a.ToArray().Skip(4 * r).Take(4).Concat(b.ToArray().Skip(4 * r).Take(4))).ToArray()),
            "dot" => (new Dot(), [a, b], () => Enumerable.Range(0, 3).Select(r => Enumerable.Range(0, 4).Sum(k => a.ToArray()[4 * r + k] * b.ToArray()[4 * r + k])).ToArray()),
            "dot-normalized" => (new Dot(normalize: true), [a, b], () => Enumerable.Range(0, 3).Select(r =>
            {
                var u = a.ToArray().Skip(4 * r).Take(4).ToArray();
                var v = b.ToArray().Skip(4 * r).Take(4).ToArray();
                return u.Zip(v, (p, q) => p * q).Sum() / MathF.Sqrt(u.Sum(p => p * p) * v.Sum(q => q * q));
            }).ToArray()),
            _ => (new Dot(axes: 2), [a, b], () => a.MatMul(b.Transpose(1, 2)).ToArray()),
        };
        Tensor y = layer.Forward(inputs);
        float[] want = expected();
        Assert.Equal(want.Length, y.Size);
        for (int i = 0; i < want.Length; i++) Assert.Equal(want[i], y.ToArray()[i], 4);
        var result = GradCheck.Check(_ => layer.Forward(inputs), inputs);
        Assert.True(result.Passed, $"{kind}: {result.Worst}");
        var json = LayerCatalog.ToJson(layer);
        var copy = (Merge)LayerCatalog.FromJson(json);
        Assert.Equal(y.ToArray(), copy.Forward(inputs).ToArray());
    }

    [Fact]
    public void Masks_flow_from_an_embedding_to_a_recurrent_layer_as_in_sequential()
    {
        Generator.ManualSeed(9);
        var embedding = new Embedding(10, 4, paddingIndex: 0);
        var lstm = new LSTM(3);
        var head = new Dense(2);
        var input = new Input(6);
        var functional = new Model(input, head.Apply(lstm.Apply(new Dropout(0.2f).Apply(embedding.Apply(input)))));
        var sequential = new Sequential(new Input(6), new Embedding(10, 4, paddingIndex: 0), new Dropout(0.2f), new LSTM(3), new Dense(2));
        sequential.LoadStateDict(functional.StateDict().Select((kv, i) => (Key: sequential.StateDict().Keys.ElementAt(i), kv.Value)).ToDictionary(p => p.Key, p => p.Value));
        Tensor ids = Tensor.FromArray([3f, 5f, 1f, 0f, 0f, 0f, 7f, 2f, 6f, 4f, 8f, 1f], 2, 6);
        Tensor shorter = Tensor.FromArray([3f, 5f, 1f], 1, 3);
        var f = functional.Predict(ids);
        Assert.Equal(sequential.Predict(ids).ToArray(), f.ToArray());
        // The padded steps are skipped: the first row gives what its three real tokens give alone.
        var three = new Input(3);
        var alone = new Model(three, head.Apply(lstm.Apply(embedding.Apply(three))));
        float[] real = alone.Predict(shorter).ToArray();
        for (int k = 0; k < 2; k++) Assert.Equal(real[k], f.ToArray()[k], 5);
    }

    [Fact]
    public void A_functional_model_saves_and_loads_with_its_graph_compile_settings_and_optimizer()
    {
        Generator.ManualSeed(10);
        var a = new Input("user", 1);
        var b = new Input("item", 1);
        var users = new Flatten().Apply(new Embedding(7, 3).Apply(a));
        var items = new Flatten().Apply(new Embedding(9, 3).Apply(b));
        var score = new Dot(normalize: true, name: "score").Apply(users, items);
        var bias = new Dense(1, name: "bias").Apply(new Concatenate().Apply(users, items));
        var model = new Model([a, b], [new Add(name: "rating").Apply(score, bias), bias], "recommender");
        model.Compile(["mse", "mae"], new Adam(0.01f) { Schedule = new CosineDecay(0.01f, 100, warmupSteps: 5) }, lossWeights: [1f, 0.25f], metrics: [["mae"], []]);
        var g = new Generator(11);
        Tensor u = Tensor.FromArray([.. Enumerable.Range(0, 40).Select(i => (float)(i % 7))], 40, 1), v = Tensor.FromArray([.. Enumerable.Range(0, 40).Select(i => (float)(i % 9))], 40, 1);
        Tensor r = Tensor.RandN([40, 1], g);
        model.Fit([u, v], [r, r], epochs: 2, batchSize: 8, verbose: 0);
        string path = TempPath(".nabla");
        try
        {
            model.Save(path, includeOptimizer: true);
            var loaded = Model.Load(path);
            Assert.Equal("recommender", loaded.Name);
            Assert.Equal(["rating", "bias"], loaded.OutputNames.ToArray());
            Assert.Equal(model.StateDict().Keys, loaded.StateDict().Keys);
            var expected = model.Predict([u, v]);
            var actual = loaded.Predict([u, v]);
            for (int o = 0; o < 2; o++) Assert.Equal(expected[o].ToArray(), actual[o].ToArray());
            Assert.Equal([1f, 0.25f], loaded.LossWeights.ToArray());
            Assert.Equal(["mse", "mae"], loaded.Losses.Select(l => l.Name).ToArray());
            Assert.Equal("mae", Assert.Single(loaded.OutputMetrics[0]).Name);
            var schedule = Assert.IsType<CosineDecay>(loaded.Optimizer!.Schedule);
            for (int s = 0; s < 120; s += 7) Assert.Equal(new CosineDecay(0.01f, 100, warmupSteps: 5).Get(s), schedule.Get(s));
            Assert.Equal(model.Optimizer!.Iterations, loaded.Optimizer.Iterations);
            // Training resumes identically from the saved optimizer state.
            model.Fit([u, v], [r, r], epochs: 1, batchSize: 40, shuffle: false, verbose: 0);
            loaded.Fit([u, v], [r, r], epochs: 1, batchSize: 40, shuffle: false, verbose: 0);
            Assert.Equal(model.StateDict()["bias.weight"].ToArray(), loaded.StateDict()["bias.weight"].ToArray());
            Assert.Contains("functional model, not a Sequential", Assert.Throws<InvalidDataException>(() => Sequential.Load(path)).Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Functional_graphs_with_add_and_concatenate_export_to_onnx_and_onnx_runtime_agrees()
    {
        Generator.ManualSeed(12);
        var image = new Input("image", 2, 6, 6);
        var extra = new Input("extra", 3);
        var conv = new Conv2D(2, 3, padding: "same", activation: "relu").Apply(image);
        var residual = new Activation("relu").Apply(new Add().Apply(new Conv2D(2, 3, padding: "same").Apply(conv), image));
        var pooled = new GlobalAveragePooling2D().Apply(residual);
        var joined = new Concatenate().Apply(pooled, new Dense(4, "tanh").Apply(extra));
        var mixed = new Multiply().Apply(new Dense(3).Apply(joined), new Dense(3).Apply(joined));
        var outputs = new SymbolicTensor[] { new Dense(2, name: "logits").Apply(mixed), new Maximum(name: "peak").Apply(new Average().Apply(mixed, mixed), new Subtract().Apply(mixed, mixed)) };
        var model = new Model([image, extra], outputs);
        var g = new Generator(13);
        Tensor x1 = Tensor.RandN([3, 2, 6, 6], g), x2 = Tensor.RandN([3, 3], g);
        string path = TempPath(".onnx");
        try
        {
            OnnxExport.Save(model, path);
            var expected = model.Predict([x1, x2]);
            using var session = new InferenceSession(path);
            using var results = session.Run([
                NamedOnnxValue.CreateFromTensor("image", new DenseTensor<float>(x1.ToArray(), [3, 2, 6, 6])),
                NamedOnnxValue.CreateFromTensor("extra", new DenseTensor<float>(x2.ToArray(), [3, 3]))]);
            string[] names = ["logits", "peak"];
            for (int o = 0; o < 2; o++)
            {
                float[] actual = results.Single(r => r.Name == names[o]).AsEnumerable<float>().ToArray();
                float[] want = expected[o].ToArray();
                Assert.Equal(want.Length, actual.Length);
                for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - actual[i]) <= 1e-4f, $"{names[o]}[{i}]: nabla {want[i]}, onnx {actual[i]}");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_dot_of_two_towers_exports_to_onnx()
    {
        Generator.ManualSeed(14);
        var a = new Input(5);
        var b = new Input(5);
        var model = new Model([a, b], [new Dot(normalize: true).Apply(new Dense(4).Apply(a), new Dense(4).Apply(b))]);
        var g = new Generator(15);
        Tensor x1 = Tensor.RandN([4, 5], g), x2 = Tensor.RandN([4, 5], g);
        string path = TempPath(".onnx");
        try
        {
            OnnxExport.Save(model, path);
            float[] want = model.Predict([x1, x2])[0].ToArray();
            using var session = new InferenceSession(path);
            var names = session.InputMetadata.Keys.ToArray();
            using var results = session.Run([
                NamedOnnxValue.CreateFromTensor(names[0], new DenseTensor<float>(x1.ToArray(), [4, 5])),
                NamedOnnxValue.CreateFromTensor(names[1], new DenseTensor<float>(x2.ToArray(), [4, 5]))]);
            float[] actual = results.Single().AsEnumerable<float>().ToArray();
            for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - actual[i]) <= 1e-4f, $"[{i}]: nabla {want[i]}, onnx {actual[i]}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A decoder of two Transformer decoder blocks (norm first with GELU, then post-norm with ReLU) and a cross-attention, over a target and a memory of other lengths.</summary>
    [Fact]
    public void Transformer_decoder_blocks_and_cross_attention_export_to_onnx_and_onnx_runtime_agrees()
    {
        Generator.ManualSeed(16);
        var target = new Input("target", 4, 8);
        var memory = new Input("memory", 6, 8);
        var h = new TransformerDecoderLayer(8, 2, feedForward: 12, dropout: 0f, activation: "gelu", normFirst: true).Apply(target, memory);
        h = new TransformerDecoderLayer(8, 2, feedForward: 12, dropout: 0f, causal: false).Apply(h, memory);
        h = new MultiHeadAttention(8, 2, dropout: 0f).Apply(h, memory);
        var model = new Model([target, memory], [new Dense(3).Apply(h)]);
        // Non-trivial norms and biases, so that every constant's place is checked.
        using (Tensor.NoGrad())
        {
            var noise = new Generator(17);
            foreach (var p in model.Parameters().Where(p => p.Value.Rank == 1)) p.Value.CopyFrom(Tensor.RandN(p.Value.Shape.ToArray(), noise) * 0.3f + (p.Value.Sum().Item() > 0 ? 1f : 0f));
        }
        var g = new Generator(18);
        Tensor x1 = Tensor.RandN([3, 4, 8], g), x2 = Tensor.RandN([3, 6, 8], g);
        string path = TempPath(".onnx");
        try
        {
            OnnxExport.Save(model, path);
            float[] want = model.Predict([x1, x2])[0].ToArray();
            using var session = new InferenceSession(path);
            using var results = session.Run([
                NamedOnnxValue.CreateFromTensor("target", new DenseTensor<float>(x1.ToArray(), [3, 4, 8])),
                NamedOnnxValue.CreateFromTensor("memory", new DenseTensor<float>(x2.ToArray(), [3, 6, 8]))]);
            float[] actual = results.Single().AsEnumerable<float>().ToArray();
            Assert.Equal(want.Length, actual.Length);
            for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - actual[i]) <= 1e-4f * (1 + Math.Abs(want[i])), $"[{i}]: nabla {want[i]}, onnx {actual[i]}");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
