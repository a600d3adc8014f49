using System.Diagnostics;
using System.Globalization;
using System.Text;
using Nabla.Callbacks;
using Nabla.IO;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Metrics;
using Nabla.Optimizers;
using Nabla.Training;

namespace Nabla;

/// <summary>
/// A stack of layers applied in order, with Keras's training API: <see cref="Compile"/>,
/// <see cref="Fit"/>, <see cref="Evaluate"/>, <see cref="Predict"/>, <see cref="Summary"/>.
/// It is also a <see cref="Module"/>: parameters are named <c>0.weight</c>, <c>0.bias</c>, ...
/// as in a PyTorch nn.Sequential, for custom training loops.
/// </summary>
public class Sequential : Module
{
    private readonly List<Layer> _layers = [];
    private readonly Dictionary<string, int> _nameCounts = [];
    private List<Metric> _metrics = [];

    /// <summary>Creates a model from layers (more can be added with <see cref="Add"/>).</summary>
    public Sequential(params Layer[] layers)
    {
        foreach (var layer in layers) Add(layer);
    }

    /// <summary>The model's display name.</summary>
    public string Name { get; init; } = "sequential";

    /// <summary>The layers, in order.</summary>
    public IReadOnlyList<Layer> Layers => _layers;

    /// <summary>The loss set by <see cref="Compile"/>.</summary>
    public Loss? Loss { get; private set; }

    /// <summary>The optimizer set by <see cref="Compile"/>.</summary>
    public Optimizer? Optimizer { get; private set; }

    /// <summary>The metrics set by <see cref="Compile"/>.</summary>
    public IReadOnlyList<Metric> Metrics => _metrics;

    /// <summary>Set by a callback to end <see cref="Fit"/> after the current epoch.</summary>
    public bool StopTraining { get; set; }

    /// <summary>Appends a layer, naming it Keras-style (dense, dense_1, ...) unless it has a name.</summary>
    public void Add(Layer layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (_layers.Contains(layer)) throw new ArgumentException($"{layer.TypeName} '{layer.Name}' is already in this model.", nameof(layer));
        if (layer.Name is null)
        {
            string baseName = SnakeCase(layer.TypeName);
            _nameCounts.TryGetValue(baseName, out int count);
            _nameCounts[baseName] = count + 1;
            layer.Name = count == 0 ? baseName : $"{baseName}_{count}";
        }
        AddModule(_layers.Count.ToString(CultureInfo.InvariantCulture), layer);
        _layers.Add(layer);
        // Once the input size is known (Keras's Input), every layer added is built at once, so
        // Parameters() is complete when an optimizer is created from it.
        if (_layers[0].IsBuilt && !layer.IsBuilt) Build(_layers[0].BuiltInputShape.ToArray());
    }

    private static string SnakeCase(string name)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && char.IsLower(name[i - 1])) sb.Append('_');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }

    /// <summary>Applies the layers in order.</summary>
    public override Tensor Forward(Tensor input)
    {
        if (_layers.Count == 0) throw new InvalidOperationException($"Model '{Name}' has no layers.");
        Tensor x = input;
        Tensor? mask = null;
        foreach (var layer in _layers)
        {
            Tensor layerInput = x;
            x = (layer, mask) switch
            {
                (RecurrentLayer r, not null) => r.Forward(x, mask),
                (Bidirectional b, not null) => b.Forward(x, mask),
                _ => layer.Forward(x),
            };
            // An Embedding with a padding index masks its padded ids for the next recurrent
            // layer; layers that keep the time axis as it is pass the mask on.
            mask = layer switch
            {
                Embedding { PaddingIndex: int pad } => layerInput.Ne(pad),
                Dropout or Activation => mask,
                _ => null,
            };
        }
        return x;
    }

    /// <summary>True once every layer has its weights.</summary>
    public bool IsBuilt => _layers.Count > 0 && _layers.All(l => l.IsBuilt);

    /// <summary>
    /// Creates every layer's weights for samples of <paramref name="inputShape"/> (batch dimension
    /// excluded) by passing one zero sample through the model, without recording or updating anything.
    /// </summary>
    public void Build(params int[] inputShape) => OutputShapes(inputShape);

    /// <summary>The shape of one sample of the model's output (batch dimension excluded); the model must be built.</summary>
    public int[] OutputShape()
    {
        if (!IsBuilt) throw new InvalidOperationException($"OutputShape: model '{Name}' is not built yet; call Build(inputShape) first.");
        return OutputShapes(_layers[0].BuiltInputShape.ToArray())[^1];
    }

    /// <summary>The output shape of each layer for one sample of <paramref name="inputShape"/>; builds layers as needed.</summary>
    private List<int[]> OutputShapes(int[] inputShape)
    {
        using var inference = InferenceScope();
        {
            using var noGrad = Tensor.NoGrad();
            Tensor x;
            using (IO.LoadBudget.Enter(call: true)) x = Tensor.Zeros([1, .. inputShape]);
            var shapes = new List<int[]>();
            foreach (var layer in _layers)
            {
                x = layer.Forward(x);
                shapes.Add(x.Shape[1..].ToArray());
            }
            return shapes;
        }
    }

    /// <summary>
    /// Sets the loss, the optimizer (bound to this model's parameters when it has none) and the
    /// metrics. Strings work for each: <c>Compile("binary_crossentropy", "adam", "accuracy")</c>.
    /// </summary>
    public void Compile(Loss loss, Optimizer optimizer, params Metric[] metrics)
    {
        Loss = loss ?? throw new ArgumentNullException(nameof(loss), "Compile needs a loss, e.g. \"mse\" or new BinaryCrossEntropy().");
        Optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer), "Compile needs an optimizer, e.g. \"adam\" or new SGD(0.1f).");
        _metrics = [.. metrics ?? []];
        // Accuracy on logits is decided at 0, not 0.5.
        bool logits = loss is BinaryCrossEntropy { FromLogits: true };
        foreach (var m in _metrics)
        {
            if (logits && m is Accuracy a) a.Threshold = 0f;
            if (logits && m is BinaryConfusion b) b.Threshold = 0f;
        }
    }

    private void EnsureReady(Tensor x, string caller)
    {
        if (Loss is null || Optimizer is null)
            throw new InvalidOperationException($"{caller}: compile the model first, e.g. model.Compile(\"mse\", \"adam\").");
        if (x.Rank == 0) throw new ArgumentException($"{caller}: x must have a batch dimension, got a scalar.");
        if (!IsBuilt) Build(x.Shape[1..].ToArray());
        CheckSampleRank(x, caller);
        if (Optimizer.Parameters.Count == 0) Optimizer.Bind(Parameters());
    }

    /// <summary>
    /// Throws when <paramref name="x"/> has one dimension fewer than a batch of the samples the model
    /// was built for: a single sample given without its batch dimension would otherwise be read as
    /// a batch of smaller samples.
    /// </summary>
    private void CheckSampleRank(Tensor x, string caller)
    {
        ReadOnlySpan<int> sample = _layers[0].BuiltInputShape;
        if (x.Rank == sample.Length && Shapes.Equal(x.Shape, sample))
            throw new ArgumentException($"{caller}: x has shape {x.ShapeString}, which is one sample of model '{Name}' without the batch dimension; " +
                $"pass [N, {string.Join(", ", sample.ToArray())}] (for one sample, x.Reshape(1, {string.Join(", ", sample.ToArray())})).");
    }

    // The thread running Fit, TrainOnBatch or Evaluate on this model (0 when none): two threads
    // training one model would interleave their optimizer steps and metric updates silently.
    private int _busyThread;

    /// <summary>Marks the model busy on this thread until disposed; throws when another thread holds it (the same thread may re-enter, as Fit's validation does).</summary>
    private BusyScope EnterBusy(string caller)
    {
        int me = Environment.CurrentManagedThreadId;
        int holder = Interlocked.CompareExchange(ref _busyThread, me, 0);
        if (holder == 0) return new BusyScope(this);
        if (holder == me) return default;
        throw new InvalidOperationException($"{caller}: Fit, TrainOnBatch or Evaluate is already running on model '{Name}' in another thread; one model trains on one thread at a time (clone it to train copies in parallel).");
    }

    private readonly struct BusyScope(Sequential? owner) : IDisposable
    {
        public void Dispose()
        {
            if (owner is not null) Volatile.Write(ref owner._busyThread, 0);
        }
    }

    private static void CheckPair(Tensor x, Tensor y, string caller, string what = "x and y")
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Rank == 0 || y.Rank == 0 || x.Shape[0] != y.Shape[0])
            throw new ArgumentException($"{caller}: {what} must have the same number of samples, got {x.ShapeString} and {y.ShapeString}.");
        if (x.Shape[0] == 0) throw new ArgumentException($"{caller}: {what} have no samples.");
    }

    /// <summary>
    /// Trains for <paramref name="epochs"/> passes over (x, y) in mini-batches, shuffled each epoch
    /// from <see cref="Generator.Default"/>. Validation data, if any, is the given pair or the last
    /// <paramref name="validationSplit"/> fraction of x and y (taken before shuffling, as Keras).
    /// Returns the per-epoch history of loss, metrics and their val_ versions.
    /// </summary>
    /// <param name="x">Inputs [N, ...].</param>
    /// <param name="y">Targets [N, ...].</param>
    /// <param name="epochs">Passes over the training data.</param>
    /// <param name="batchSize">Samples per gradient step.</param>
    /// <param name="validationSplit">Fraction of the data held out for validation, in [0, 1).</param>
    /// <param name="validationData">Explicit validation inputs and targets (overrides the split).</param>
    /// <param name="shuffle">Shuffle the training samples each epoch.</param>
    /// <param name="callbacks">Hooks such as EarlyStopping or ModelCheckpoint.</param>
    /// <param name="verbose">0 silent, 1 progress bar, 2 one line per epoch.</param>
    /// <param name="terminateOnNaN">Throw <see cref="TrainingDivergedException"/> when the loss becomes NaN or infinite.</param>
    /// <param name="output">Where progress goes (default the console).</param>
    /// <param name="initialEpoch">Epochs already done (when resuming): training runs epochs initialEpoch + 1 .. epochs, as Keras's initial_epoch.</param>
    public History Fit(Tensor x, Tensor y, int epochs = 1, int batchSize = 32, float validationSplit = 0f,
        (Tensor X, Tensor Y)? validationData = null, bool shuffle = true, IEnumerable<Callback>? callbacks = null,
        int verbose = 1, bool terminateOnNaN = true, TextWriter? output = null, int initialEpoch = 0)
    {
        CheckPair(x, y, "Fit");
        using var busy = EnterBusy("Fit");
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 0);
        ArgumentOutOfRangeException.ThrowIfNegative(initialEpoch);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (!(validationSplit >= 0f && validationSplit < 1f))
            throw new ArgumentOutOfRangeException(nameof(validationSplit), $"Fit: validationSplit must be in [0, 1), not {validationSplit}.");
        EnsureReady(x, "Fit");

        Tensor trainX = x, trainY = y;
        Tensor? valX = null, valY = null;
        if (validationData is { } vd)
        {
            CheckPair(vd.X, vd.Y, "Fit", "validation x and y");
            (valX, valY) = vd;
        }
        else if (validationSplit > 0f)
        {
            int n = x.Shape[0];
            int nVal = (int)(n * validationSplit);
            if (nVal == 0 || nVal == n) throw new ArgumentException($"Fit: validationSplit {validationSplit} of {n} samples leaves an empty training or validation set.");
            trainX = x.Slice(0, 0, n - nVal); trainY = y.Slice(0, 0, n - nVal);
            valX = x.Slice(0, n - nVal); valY = y.Slice(0, n - nVal);
        }

        var cbs = (callbacks ?? []).ToList();
        foreach (var cb in cbs) cb.Model = this;
        var history = new History();
        int samples = trainX.Shape[0];
        int steps = (samples + batchSize - 1) / batchSize;
        var progress = new ProgressBar(output ?? Console.Out, verbose, epochs, steps);
        StopTraining = false;
        foreach (var cb in cbs) cb.OnTrainBegin();
        var order = new int[samples];
        var batchIds = new float[batchSize];
        try
        {
            for (int epoch = initialEpoch + 1; epoch <= epochs && !StopTraining; epoch++)
            {
                foreach (var cb in cbs) cb.OnEpochBegin(epoch);
                progress.BeginEpoch(epoch);
                Train();
                for (int i = 0; i < samples; i++) order[i] = i;
                if (shuffle) Generator.Default.Shuffle(order);
                foreach (var m in _metrics) m.Reset();
                double lossSum = 0;
                var logs = new Dictionary<string, float>();
                for (int step = 0; step < steps; step++)
                {
                    foreach (var cb in cbs) cb.OnBatchBegin(step + 1);
                    int start = step * batchSize, count = Math.Min(batchSize, samples - start);
                    for (int i = 0; i < count; i++) batchIds[i] = order[start + i];
                    Tensor ids = Tensor.FromSpan(batchIds.AsSpan(0, count));
                    Tensor xb = trainX.IndexSelect(0, ids), yb = trainY.IndexSelect(0, ids);
                    if (Autograd.AnomalyMode.IsEnabled) Autograd.AnomalyMode.CurrentStep = $"epoch {epoch}, batch {step + 1}";
                    float lossValue = TrainBatch(xb, yb, updateMetrics: true, terminateOnNaN ? (epoch, step + 1) : null);
                    lossSum += (double)lossValue * count;
                    logs["loss"] = (float)(lossSum / (start + count));
                    foreach (var m in _metrics) logs[m.Name] = m.Result();
                    progress.Batch(step + 1, logs);
                    foreach (var cb in cbs) cb.OnBatchEnd(step + 1, logs);
                    if (StopTraining) break;
                }
                if (valX is not null)
                {
                    foreach (var (k, v) in Evaluate(valX, valY!, batchSize)) logs["val_" + k] = v;
                }
                progress.EndEpoch(epoch, logs);
                history.Append(logs);
                foreach (var cb in cbs) cb.OnEpochEnd(epoch, logs);
            }
        }
        finally
        {
            Autograd.AnomalyMode.CurrentStep = null;
            foreach (var cb in cbs) cb.OnTrainEnd();
            Train();
        }
        return history;
    }

    /// <summary>
    /// One optimizer step on one batch, as Keras's <c>train_on_batch</c>: forward in training mode,
    /// the compiled loss, backward, the optimizer's update. Returns the batch's loss (before the
    /// update). The step's activations are recycled for the next one (a <see cref="Autograd.StepScope"/>).
    /// </summary>
    public float TrainOnBatch(Tensor x, Tensor y)
    {
        CheckPair(x, y, "TrainOnBatch");
        using var busy = EnterBusy("TrainOnBatch");
        EnsureReady(x, "TrainOnBatch");
        Train();
        return TrainBatch(x, y, updateMetrics: false, divergedAt: null);
    }

    /// <summary>Forward, loss, backward and update on one batch inside a step scope; the loss value.</summary>
    private float TrainBatch(Tensor xb, Tensor yb, bool updateMetrics, (int Epoch, int Batch)? divergedAt)
    {
        using var step = Tensor.StepScope();
        Tensor prediction = Forward(xb);
        Tensor loss = Loss!.Compute(prediction, yb);
        float lossValue = loss.Item();
        if (divergedAt is { } at && !float.IsFinite(lossValue)) throw new TrainingDivergedException(at.Epoch, at.Batch, lossValue);
        // Every trainable parameter gets a gradient each step here, so zero-filled
        // buffers behave as fresh ones and save an allocation per parameter.
        Optimizer!.ZeroGrad(setToNone: false);
        loss.Backward();
        Optimizer.Step();
        if (updateMetrics)
        {
            Tensor detached = prediction.Detach();
            foreach (var m in _metrics) m.Update(detached, yb);
        }
        return lossValue;
    }

    /// <summary>The loss and metrics on (x, y), in evaluation mode, computed in batches.</summary>
    public Dictionary<string, float> Evaluate(Tensor x, Tensor y, int batchSize = 32)
    {
        CheckPair(x, y, "Evaluate");
        using var busy = EnterBusy("Evaluate");
        EnsureReady(x, "Evaluate");
        foreach (var m in _metrics) m.Reset();
        double lossSum = 0;
        int n = x.Shape[0];
        using (InferenceScope())
        {
            using var noGrad = Tensor.NoGrad();
            for (int start = 0; start < n; start += batchSize)
            {
                int end = Math.Min(n, start + batchSize);
                Tensor xb = x.Slice(0, start, end), yb = y.Slice(0, start, end);
                Tensor prediction = Forward(xb);
                lossSum += (double)Loss!.Compute(prediction, yb).Item() * (end - start);
                foreach (var m in _metrics) m.Update(prediction, yb);
            }
        }
        var result = new Dictionary<string, float> { ["loss"] = (float)(lossSum / n) };
        foreach (var m in _metrics) result[m.Name] = m.Result();
        return result;
    }

    /// <summary>
    /// The model's outputs for x, in evaluation mode and without recording, computed in batches.
    /// Safe to call from many threads at once on one trained model.
    /// </summary>
    public Tensor Predict(Tensor x, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (x.Rank == 0 || x.Shape[0] == 0) throw new ArgumentException($"Predict: x must have at least one sample, got {x.ShapeString}.");
        if (!IsBuilt) Build(x.Shape[1..].ToArray());
        CheckSampleRank(x, "Predict");
        using (InferenceScope())
        {
            using var noGrad = Tensor.NoGrad();
            var parts = new List<Tensor>();
            for (int start = 0; start < x.Shape[0]; start += batchSize)
                parts.Add(Forward(x.Slice(0, start, start + batchSize)));
            return parts.Count == 1 ? parts[0] : Tensor.Concat(parts, 0);
        }
    }

    /// <summary>
    /// A table of layers, output shapes and parameter counts, as Keras's model.summary(); written
    /// to <paramref name="output"/> (default the console) and returned.
    /// </summary>
    public string Summary(TextWriter? output = null)
    {
        var rows = SummaryRows().Select(r => (Layer: $"{r.Name} ({r.Type})", Shape: r.Shape, Params: r.Parameters.ToString("N0", CultureInfo.InvariantCulture))).ToList();
        var (trainable, frozen) = ParameterCounts();
        int w1 = Math.Max("Layer (type)".Length, rows.Max(r => r.Layer.Length));
        int w2 = Math.Max("Output Shape".Length, rows.Max(r => r.Shape.Length));
        int w3 = Math.Max("Param #".Length, rows.Max(r => r.Params.Length));
        string Bar(char l, char m, char r) => l + new string('─', w1 + 2) + m + new string('─', w2 + 2) + m + new string('─', w3 + 2) + r;
        var sb = new StringBuilder();
        sb.AppendLine($"Model: \"{Name}\"");
        sb.AppendLine(Bar('┌', '┬', '┐'));
        sb.AppendLine($"│ {"Layer (type)".PadRight(w1)} │ {"Output Shape".PadRight(w2)} │ {"Param #".PadLeft(w3)} │");
        sb.AppendLine(Bar('├', '┼', '┤'));
        foreach (var r in rows) sb.AppendLine($"│ {r.Layer.PadRight(w1)} │ {r.Shape.PadRight(w2)} │ {r.Params.PadLeft(w3)} │");
        sb.AppendLine(Bar('└', '┴', '┘'));
        string Count(long n) => $"{n.ToString("N0", CultureInfo.InvariantCulture)} ({Bytes(n * 4)})";
        sb.AppendLine($" Total params: {Count(trainable + frozen)}");
        sb.AppendLine($" Trainable params: {Count(trainable)}");
        sb.AppendLine($" Non-trainable params: {Count(frozen)}");
        string text = sb.ToString();
        (output ?? Console.Out).Write(text);
        return text;
    }

    /// <summary>The rows of <see cref="Summary"/>: each layer's name, type, output shape ("(None, 64)") and parameter count.</summary>
    public IReadOnlyList<LayerSummary> SummaryRows()
    {
        if (_layers.Count == 0 || !_layers[0].IsBuilt)
            throw new InvalidOperationException($"Summary: model '{Name}' is not built yet; call Build(inputShape), give the first layer its input size, or call Fit or Predict first.");
        List<int[]> shapes = OutputShapes(_layers[0].BuiltInputShape.ToArray());
        return _layers.Select((l, i) => new LayerSummary(l.Name!, l.TypeName, "(None" + string.Concat(shapes[i].Select(d => ", " + d)) + ")", l.ParameterCount())).ToList();
    }

    /// <summary>Trainable parameters, and the rest (frozen parameters and buffers such as running statistics).</summary>
    public (long Trainable, long NonTrainable) ParameterCounts() =>
        (Parameters().Where(p => p.Trainable).Sum(p => (long)p.Value.Size),
         Parameters().Where(p => !p.Trainable).Sum(p => (long)p.Value.Size) + NamedBuffers().Sum(b => (long)b.Buffer.Size));

    private static string Bytes(long b) => b < 1024 ? $"{b} B" : b < 1024 * 1024 ? $"{b / 1024.0:0.00} KB" : $"{b / (1024.0 * 1024):0.00} MB";

    /// <summary>
    /// Writes the whole model to one file (atomically): architecture, weights, compile settings
    /// and, with <paramref name="includeOptimizer"/>, the optimizer's state. <see cref="Load"/> reads it back.
    /// </summary>
    public void Save(string path, bool includeOptimizer = false) => ModelFile.Save(this, path, includeOptimizer);

    /// <summary>Reads a model written by <see cref="Save"/>: rebuilt, with its weights, compiled if it was.</summary>
    public static Sequential Load(string path) => ModelFile.Load(path);

    /// <summary>Writes the parameters and buffers to a safetensors file with PyTorch-style names (atomically).</summary>
    public void SaveWeights(string path)
    {
        if (!IsBuilt) throw new InvalidOperationException($"SaveWeights: model '{Name}' has no weights yet; build or fit it first.");
        SafeTensors.Save(path, StateDict());
    }

    /// <summary>Loads parameters and buffers from a safetensors file written by <see cref="SaveWeights"/> (or PyTorch).</summary>
    public void LoadWeights(string path, bool strict = true)
    {
        if (!IsBuilt) throw new InvalidOperationException($"LoadWeights: build model '{Name}' first (Build(inputShape)) so its weights exist.");
        LoadStateDict(SafeTensors.Load(path), strict);
    }
}

/// <summary>One row of <see cref="Sequential.Summary"/>.</summary>
/// <param name="Name">The layer's name.</param>
/// <param name="Type">The layer's type.</param>
/// <param name="Shape">Its output shape, batch first as None.</param>
/// <param name="Parameters">Its parameter count.</param>
public sealed record LayerSummary(string Name, string Type, string Shape, long Parameters);
