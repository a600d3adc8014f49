using System.Globalization;
using System.Text;
using Nabla.Callbacks;
using Nabla.Data;
using Nabla.Distributed;
using Nabla.IO;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Metrics;
using Nabla.Optimizers;
using Nabla.Training;

namespace Nabla;

/// <summary>
/// A module that trains, with Keras's API: <see cref="Compile(Loss, Optimizer, Metric[])"/>,
/// <c>Fit</c>, <c>Evaluate</c>, <c>Predict</c>, <see cref="Summary"/>, <see cref="Save"/>.
/// Three ways to make one:
/// <list type="bullet">
/// <item>the functional API: <c>new Model(inputs, outputs)</c> over symbolic tensors made by
/// <see cref="Layer.Apply"/> from <see cref="Input"/>s (several inputs and outputs, shared
/// layers, merge layers such as <see cref="Layers.Add"/> and <see cref="Concatenate"/>);</item>
/// <item><see cref="Sequential"/>, a stack of layers;</item>
/// <item>a subclass that registers its modules and overrides <see cref="Forward(IReadOnlyList{Tensor})"/>
/// (and, for a custom training algorithm, <see cref="TrainStep"/> and <see cref="TestStep"/>).</item>
/// </list>
/// Batches reach the model through one path, a <see cref="DataLoader"/>, whether the data are
/// tensors in memory or an <see cref="IDataset"/> that streams from disk.
/// </summary>
public class Model : Module
{
    private readonly FunctionalGraph? _graph;
    private Loss[] _losses = [];
    private float[] _lossWeights = [];
    private Metric[][] _outputMetrics = [];
    private float[] _outputLosses = [];
    private bool _sampled;

    /// <summary>A functional model of one input and one output.</summary>
    public Model(SymbolicTensor input, SymbolicTensor output, string name = "functional") : this([input], [output], name)
    {
    }

    /// <summary>
    /// A functional model from its inputs (the symbolic tensors of <see cref="Input"/> layers) to
    /// its outputs: every layer call between them, in an order where each runs after its inputs.
    /// Unnamed layers are named Keras-style (dense, dense_1, ...); the state dict names parameters
    /// by layer name (<c>dense.weight</c>).
    /// </summary>
    public Model(IReadOnlyList<SymbolicTensor> inputs, IReadOnlyList<SymbolicTensor> outputs, string name = "functional")
    {
        Name = name;
        _graph = new FunctionalGraph(inputs, outputs, Name);
        foreach (var layer in _graph.Layers) AddModule(layer.Name!, layer);
    }

    /// <summary>For subclasses that define their own computation (override <see cref="Forward(IReadOnlyList{Tensor})"/>).</summary>
    protected Model(string name = "model") => Name = name;

    /// <summary>Wraps any module (one input, one output) as a model that can be compiled and fitted; its state dict names start with <c>module.</c>, as in PyTorch's wrappers.</summary>
    public static Model Wrap(Module module, string name = "model") => new ModuleModel(module ?? throw new ArgumentNullException(nameof(module)), name);

    /// <summary>The model's display name.</summary>
    public string Name { get; init; }

    /// <summary>The graph of a functional model (null for Sequential and subclasses).</summary>
    internal FunctionalGraph? Graph => _graph;

    /// <summary>The layers, in the order they run.</summary>
    public virtual IReadOnlyList<Layer> Layers => _graph?.Layers ?? [.. NamedChildren().Select(c => c.Module).OfType<Layer>()];

    /// <summary>Number of input tensors the model takes.</summary>
    public virtual int InputCount => _graph?.Inputs.Count ?? 1;

    /// <summary>
    /// One sample's shape (batch excluded) for each input of a functional model, in input order;
    /// null for a Sequential model, whose input shape is known only from its first batch.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<int>>? InputSampleShapes => _graph is null ? null : [.. _graph.Inputs.Select(i => i.Shape)];

    /// <summary>The names of the outputs (their layers' names), which prefix per-output losses and metrics in logs.</summary>
    public virtual IReadOnlyList<string> OutputNames => _graph?.OutputNames ?? ["output"];

    /// <summary>Number of output tensors.</summary>
    public int OutputCount => _graph?.Outputs.Count ?? 1;

    /// <summary>The loss set by <see cref="Compile(Loss, Optimizer, Metric[])"/> (the first output's, for several).</summary>
    public Loss? Loss => _losses.Length > 0 ? _losses[0] : null;

    /// <summary>The loss of each output.</summary>
    public IReadOnlyList<Loss> Losses => _losses;

    /// <summary>The weight of each output's loss in the total.</summary>
    public IReadOnlyList<float> LossWeights => _lossWeights;

    /// <summary>The optimizer set by Compile.</summary>
    public Optimizer? Optimizer { get; private set; }

    /// <summary>The metrics of each output.</summary>
    public IReadOnlyList<IReadOnlyList<Metric>> OutputMetrics => _outputMetrics;

    /// <summary>Every metric, output by output.</summary>
    public IReadOnlyList<Metric> Metrics => [.. _outputMetrics.SelectMany(m => m)];

    /// <summary>Set by a callback to end Fit after the current batch or epoch.</summary>
    public bool StopTraining { get; set; }

    /// <summary>True once every layer has its weights (always, for a functional model).</summary>
    public virtual bool IsBuilt => _graph is not null || _sampled;

    /// <summary>The shape of one sample of the (only) output, batch dimension excluded.</summary>
    public virtual int[] OutputShape()
    {
        if (_graph is null) throw new InvalidOperationException($"OutputShape: model '{Name}' is a subclass whose output shape is known only by running it.");
        if (_graph.Outputs.Count != 1) throw new InvalidOperationException($"OutputShape: model '{Name}' has {_graph.Outputs.Count} outputs; see each output's shape in Summary.");
        return [.. _graph.Outputs[0].Shape];
    }

    /// <summary>Runs the model on one tensor; a model of several inputs or outputs needs <see cref="Forward(IReadOnlyList{Tensor})"/>.</summary>
    public override Tensor Forward(Tensor input)
    {
        var outputs = Forward([input]);
        return outputs.Count == 1 ? outputs[0] : throw new InvalidOperationException($"Model '{Name}' has {outputs.Count} outputs; call Forward with a list of inputs to get them all.");
    }

    /// <summary>The model's computation: one tensor per output from one per input.</summary>
    public virtual IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (_graph is null) throw new NotImplementedException($"Model '{Name}' has no graph: a subclass of Model overrides Forward(IReadOnlyList<Tensor>).");
        return _graph.Run(inputs);
    }

    /// <summary>
    /// Sets the loss (the same for every output), the optimizer (bound to this model's parameters
    /// when it has none) and the metrics (of the only output). Strings work for each:
    /// <c>Compile("binary_crossentropy", "adam", "accuracy")</c>.
    /// </summary>
    public void Compile(Loss loss, Optimizer optimizer, params Metric[] metrics)
    {
        ArgumentNullException.ThrowIfNull(loss, nameof(loss));
        int outputs = OutputCount;
        if (outputs > 1 && metrics is { Length: > 0 })
            throw new ArgumentException($"Compile: model '{Name}' has {outputs} outputs ({string.Join(", ", OutputNames)}); give metrics per output with Compile(losses, optimizer, lossWeights, metrics).", nameof(metrics));
        Compile(Enumerable.Repeat(loss, outputs).ToArray(), optimizer, null, outputs == 1 ? [metrics ?? []] : null);
    }

    /// <summary>
    /// Compiles a model of several outputs: a loss per output (in <see cref="OutputNames"/> order),
    /// the weight of each in the total loss (1 each by default) and the metrics of each.
    /// </summary>
    public void Compile(IReadOnlyList<Loss> losses, Optimizer optimizer, IReadOnlyList<float>? lossWeights = null, IReadOnlyList<IReadOnlyList<Metric>>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(losses);
        int outputs = OutputCount;
        if (losses.Count != outputs || losses.Any(l => l is null))
            throw new ArgumentNullException(nameof(losses), $"Compile needs a loss for each of the {outputs} output(s) of model '{Name}' ({string.Join(", ", OutputNames)}), e.g. \"mse\" or new BinaryCrossEntropy(); got {losses.Count}.");
        if (lossWeights is not null && (lossWeights.Count != outputs || lossWeights.Any(w => !float.IsFinite(w) || w < 0)))
            throw new ArgumentException($"Compile: lossWeights needs one finite, non-negative weight per output ({outputs}), got [{string.Join(", ", lossWeights)}].", nameof(lossWeights));
        if (metrics is not null && metrics.Count != outputs)
            throw new ArgumentException($"Compile: metrics needs one list per output ({outputs}), got {metrics.Count}.", nameof(metrics));
        Optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer), "Compile needs an optimizer, e.g. \"adam\" or new SGD(0.1f).");
        _losses = [.. losses];
        _lossWeights = lossWeights is null ? [.. Enumerable.Repeat(1f, outputs)] : [.. lossWeights];
        _outputMetrics = new Metric[outputs][];
        for (int o = 0; o < outputs; o++)
        {
            _outputMetrics[o] = metrics is null ? [] : [.. metrics[o] ?? []];
            // Accuracy on logits is decided at 0, not 0.5.
            if (_losses[o] is not BinaryCrossEntropy { FromLogits: true }) continue;
            foreach (var m in _outputMetrics[o])
            {
                if (m is Accuracy a) a.Threshold = 0f;
                if (m is BinaryConfusion b) b.Threshold = 0f;
            }
        }
        var seen = new HashSet<Metric>();
        foreach (var m in _outputMetrics.SelectMany(m => m))
        {
            if (m is null || !seen.Add(m)) throw new ArgumentException("Compile: each metric object can serve one output only (a metric keeps running totals); pass a new one, or its name, for each.", nameof(metrics));
        }
        _outputLosses = new float[outputs];
        _logPrefixes = outputs == 1 ? [""] : [.. OutputNames.Select(n => n + "_")];
    }

    // The prefix of each output's values in logs ("" for a single output, "{name}_" for several),
    // fixed at Compile so the training step builds no names.
    private string[] _logPrefixes = [];

    /// <summary>
    /// The total loss of <paramref name="predictions"/> against <paramref name="targets"/>: each
    /// output's compiled loss times its weight, summed. Each output's own value is kept for the logs.
    /// </summary>
    protected Tensor ComputeLoss(IReadOnlyList<Tensor> predictions, IReadOnlyList<Tensor> targets)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(targets);
        if (predictions.Count != _losses.Length || targets.Count != _losses.Length)
            throw new ArgumentException($"Model '{Name}' has {_losses.Length} output(s) ({string.Join(", ", OutputNames)}) but got {predictions.Count} prediction(s) and {targets.Count} target(s).");
        if (_losses.Length == 1) return _losses[0].Compute(predictions[0], targets[0]);
        Tensor? total = null;
        for (int o = 0; o < _losses.Length; o++)
        {
            Tensor loss = _losses[o].Compute(predictions[o], targets[o]);
            _outputLosses[o] = loss.Item();
            Tensor weighted = _lossWeights[o] == 1f ? loss : loss * _lossWeights[o];
            total = total is null ? weighted : total + weighted;
        }
        return total!;
    }

    /// <summary>Feeds each output's metrics with its (detached) predictions and targets.</summary>
    protected void UpdateMetrics(IReadOnlyList<Tensor> predictions, IReadOnlyList<Tensor> targets)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(targets);
        for (int o = 0; o < _outputMetrics.Length; o++)
        {
            if (_outputMetrics[o].Length == 0) continue;
            Tensor detached = predictions[o].Detach();
            foreach (var m in _outputMetrics[o]) m.Update(detached, targets[o]);
        }
    }

    // Where the running training loop is, so that a diverged loss names its epoch and batch.
    private (int Epoch, int Batch)? _stepAt;

    /// <summary>Throws <see cref="TrainingDivergedException"/> when Fit asked for it and <paramref name="loss"/> is NaN or infinite.</summary>
    protected void CheckFinite(float loss)
    {
        if (_stepAt is { } at && !float.IsFinite(loss)) throw new TrainingDivergedException(at.Epoch, at.Batch, loss);
    }

    /// <summary>
    /// One optimizer step on one batch (Keras's train_step): forward in training mode, the compiled
    /// loss, backward, the optimizer's update, the metrics. Returns the batch's loss (before the
    /// update). Override it for a custom training algorithm; Fit calls it inside a step scope.
    /// </summary>
    protected virtual float TrainStep(DataBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var predictions = Forward(batch.Inputs);
        Tensor loss = ComputeLoss(predictions, batch.Targets);
        float value = loss.Item();
        CheckFinite(value);
        // Every trainable parameter gets a gradient each step here, so zero-filled
        // buffers behave as fresh ones and save an allocation per parameter.
        Optimizer!.ZeroGrad(setToNone: false);
        loss.Backward();
        Optimizer.Step();
        UpdateMetrics(predictions, batch.Targets);
        return value;
    }

    /// <summary>The loss on one batch and the metrics updated (Keras's test_step); called in inference mode without recording.</summary>
    protected virtual float TestStep(DataBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var predictions = Forward(batch.Inputs);
        float value = ComputeLoss(predictions, batch.Targets).Item();
        UpdateMetrics(predictions, batch.Targets);
        return value;
    }

    /// <summary>Checks that the model is compiled, builds it for <paramref name="batch"/> and binds the optimizer.</summary>
    private void EnsureReady(DataBatch batch, string caller)
    {
        if (_losses.Length == 0 || Optimizer is null)
            throw new InvalidOperationException($"{caller}: compile the model first, e.g. model.Compile(\"mse\", \"adam\").");
        CheckBatch(batch, caller, targets: true);
        if (Optimizer.Parameters.Count == 0) Optimizer.Bind(Parameters());
    }

    /// <summary>Throws unless <paramref name="batch"/> has one tensor per input (and per output, with <paramref name="targets"/>) with a batch dimension; builds the model for its samples.</summary>
    private void CheckBatch(DataBatch batch, string caller, bool targets)
    {
        if (batch.Inputs.Count != InputCount)
            throw new ArgumentException($"{caller}: model '{Name}' takes {InputCount} input(s), got {batch.Inputs.Count}.");
        if (targets && batch.Targets.Count != OutputCount)
            throw new ArgumentException($"{caller}: model '{Name}' has {OutputCount} output(s) ({string.Join(", ", OutputNames)}), got {batch.Targets.Count} target(s).");
        foreach (var x in batch.Inputs)
        {
            if (x.Rank == 0) throw new ArgumentException($"{caller}: x must have a batch dimension, got a scalar.");
        }
        if (!IsBuilt) BuildFor(batch.Inputs);
        CheckSamples(batch.Inputs, caller);
    }

    /// <summary>Creates the weights for inputs like <paramref name="inputs"/> ([N, ...] each); by default by running the model once on their first sample, without recording.</summary>
    protected virtual void BuildFor(IReadOnlyList<Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        using (InferenceScope())
        using (Tensor.NoGrad())
            Forward([.. inputs.Select(x => x.Slice(0, 0, Math.Min(1, x.Shape[0])))]);
        _sampled = true;
    }

    /// <summary>Throws when an input does not fit the model: a functional model checks each input's sample shape.</summary>
    protected virtual void CheckSamples(IReadOnlyList<Tensor> inputs, string caller)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (_graph is null) return;
        for (int i = 0; i < inputs.Count; i++)
        {
            var expected = _graph.Inputs[i].Shape;
            if (!inputs[i].Shape[1..].SequenceEqual(_graph.Inputs[i].SampleShape))
                throw new ArgumentException($"{caller}: input '{_graph.Inputs[i].Layer.Name}' of model '{Name}' takes samples of shape [{string.Join(", ", expected)}], but got a batch of shape {inputs[i].ShapeString}" +
                    (inputs[i].Rank == expected.Count && inputs[i].Shape.SequenceEqual(expected.ToArray()) ? " (one sample without its batch dimension?)." : "."));
        }
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

    private readonly struct BusyScope(Model? owner) : IDisposable
    {
        public void Dispose()
        {
            if (owner is not null) Volatile.Write(ref owner._busyThread, 0);
        }
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
    /// <param name="distributed">The ranks to train on data-parallel (batchSize is then the global batch); null for this process alone.</param>
    public History Fit(Tensor x, Tensor y, int epochs = 1, int batchSize = 32, float validationSplit = 0f,
        (Tensor X, Tensor Y)? validationData = null, bool shuffle = true, IEnumerable<Callback>? callbacks = null,
        int verbose = 1, bool terminateOnNaN = true, TextWriter? output = null, int initialEpoch = 0, ICommunicator? distributed = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        return Fit([x], [y], epochs, batchSize, validationSplit, validationData is { } v ? ([v.X], [v.Y]) : null, shuffle, callbacks, verbose, terminateOnNaN, output, initialEpoch, distributed);
    }

    /// <summary>
    /// As <see cref="Fit(Tensor, Tensor, int, int, float, ValueTuple{Tensor, Tensor}?, bool, IEnumerable{Callback}?, int, bool, TextWriter?, int, ICommunicator?)"/>
    /// for a model of several inputs or outputs: one tensor per input and one per output, in the
    /// model's order, all with the same number of samples.
    /// </summary>
    public History Fit(IReadOnlyList<Tensor> x, IReadOnlyList<Tensor> y, int epochs = 1, int batchSize = 32, float validationSplit = 0f,
        (IReadOnlyList<Tensor> X, IReadOnlyList<Tensor> Y)? validationData = null, bool shuffle = true, IEnumerable<Callback>? callbacks = null,
        int verbose = 1, bool terminateOnNaN = true, TextWriter? output = null, int initialEpoch = 0, ICommunicator? distributed = null)
    {
        var data = Pair(x, y, "Fit", "x and y");
        if (!(validationSplit >= 0f && validationSplit < 1f))
            throw new ArgumentOutOfRangeException(nameof(validationSplit), $"Fit: validationSplit must be in [0, 1), not {validationSplit}.");
        TensorDataset? validation = null;
        if (validationData is { } vd) validation = Pair(vd.X, vd.Y, "Fit", "validation x and y");
        else if (validationSplit > 0f)
        {
            int n = data.Count;
            int nVal = (int)(n * validationSplit);
            if (nVal == 0 || nVal == n) throw new ArgumentException($"Fit: validationSplit {validationSplit} of {n} samples leaves an empty training or validation set.");
            validation = data.Range(n - nVal, n);
            data = data.Range(0, n - nVal);
        }
        return Fit(data, epochs, batchSize, validation, shuffle, callbacks, verbose, terminateOnNaN, output, initialEpoch, prefetch: false, distributed);
    }

    /// <summary>
    /// As <see cref="Fit(IReadOnlyList{Tensor}, IReadOnlyList{Tensor}, int, int, float, ValueTuple{IReadOnlyList{Tensor}, IReadOnlyList{Tensor}}?, bool, IEnumerable{Callback}?, int, bool, TextWriter?, int, ICommunicator?)"/>
    /// with inputs and targets by name: the names of the model's Input layers and of its output layers.
    /// </summary>
    public History Fit(IReadOnlyDictionary<string, Tensor> x, IReadOnlyDictionary<string, Tensor> y, int epochs = 1, int batchSize = 32, float validationSplit = 0f,
        bool shuffle = true, IEnumerable<Callback>? callbacks = null, int verbose = 1, bool terminateOnNaN = true, TextWriter? output = null, int initialEpoch = 0, ICommunicator? distributed = null) =>
        Fit(ByName(x, InputNames, "input", "Fit"), ByName(y, OutputNames, "output", "Fit"), epochs, batchSize, validationSplit, null, shuffle, callbacks, verbose, terminateOnNaN, output, initialEpoch, distributed);

    /// <summary>The loss and metrics with inputs and targets by name.</summary>
    public Dictionary<string, float> Evaluate(IReadOnlyDictionary<string, Tensor> x, IReadOnlyDictionary<string, Tensor> y, int batchSize = 32) =>
        Evaluate(ByName(x, InputNames, "input", "Evaluate"), ByName(y, OutputNames, "output", "Evaluate"), batchSize);

    /// <summary>The outputs, by output name, for inputs by name.</summary>
    public Dictionary<string, Tensor> Predict(IReadOnlyDictionary<string, Tensor> x, int batchSize = 32)
    {
        var outputs = Predict(ByName(x, InputNames, "input", "Predict"), batchSize);
        var result = new Dictionary<string, Tensor>();
        for (int o = 0; o < outputs.Count; o++) result[OutputNames[o]] = outputs[o];
        return result;
    }

    /// <summary>The names of the inputs (their Input layers' names), in order.</summary>
    public virtual IReadOnlyList<string> InputNames => _graph?.InputNames ?? ["input"];

    /// <summary>The tensors of <paramref name="byName"/> in the order of <paramref name="names"/>; an unknown or missing name is an error listing the names.</summary>
    private static Tensor[] ByName(IReadOnlyDictionary<string, Tensor> byName, IReadOnlyList<string> names, string what, string caller)
    {
        ArgumentNullException.ThrowIfNull(byName);
        foreach (string key in byName.Keys)
        {
            if (!names.Contains(key)) throw new ArgumentException($"{caller}: the model has no {what} named '{key}'; its {what}s are {string.Join(", ", names)}.");
        }
        return [.. names.Select(n => byName.TryGetValue(n, out var t) ? t : throw new ArgumentException($"{caller}: no tensor for {what} '{n}'; the model's {what}s are {string.Join(", ", names)}."))];
    }

    private static TensorDataset Pair(IReadOnlyList<Tensor> x, IReadOnlyList<Tensor> y, string caller, string what)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        foreach (var t in x.Concat(y)) ArgumentNullException.ThrowIfNull(t, nameof(x));
        if (x.Count == 0) throw new ArgumentException($"{caller}: no input tensors.");
        int n = x[0].Rank == 0 ? -1 : x[0].Shape[0];
        if (x.Concat(y).Any(t => t.Rank == 0 || t.Shape[0] != n))
            throw new ArgumentException($"{caller}: {what} must have the same number of samples, got {string.Join(" and ", x.Concat(y).Select(t => t.ShapeString))}.");
        if (n == 0) throw new ArgumentException($"{caller}: {what} have no samples.");
        return new TensorDataset(x, y);
    }

    /// <summary>
    /// Trains on a dataset that may stream from disk (<see cref="CsvFileDataset"/>, or any
    /// <see cref="IDataset"/>): each epoch a <see cref="DataLoader"/> shuffles it from
    /// <see cref="Generator.Default"/> and, with <paramref name="prefetch"/>, reads the next batch
    /// while the current one trains, so only a couple of batches are in memory at once. The same rows
    /// in memory (<see cref="TensorDataset"/>) give the same weights.
    /// </summary>
    public History Fit(IDataset data, int epochs = 1, int batchSize = 32, IDataset? validationData = null, bool shuffle = true,
        IEnumerable<Callback>? callbacks = null, int verbose = 1, bool terminateOnNaN = true, TextWriter? output = null, int initialEpoch = 0, bool prefetch = true,
        ICommunicator? distributed = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (data.Count == 0) throw new ArgumentException("Fit: the dataset has no samples.", nameof(data));
        return Fit(new DataLoader(data, batchSize, shuffle, Generator.Default, prefetch: prefetch && data is not TensorDataset), epochs, validationData, callbacks, verbose, terminateOnNaN, output, initialEpoch, distributed);
    }

    /// <summary>
    /// Trains on the batches of <paramref name="loader"/>, one pass over them per epoch. With
    /// <paramref name="distributed"/> (a group of several ranks, e.g. <c>MpiCommunicator.World</c>
    /// from Nabla.Distributed) it trains data-parallel: the loader's batches are global batches,
    /// each rank computes the gradient of its part and the parts are summed across ranks during
    /// backward, so every rank takes the same step (see docs/DISTRIBUTED.md).
    /// </summary>
    public History Fit(DataLoader loader, int epochs = 1, IDataset? validationData = null, IEnumerable<Callback>? callbacks = null,
        int verbose = 1, bool terminateOnNaN = true, TextWriter? output = null, int initialEpoch = 0, ICommunicator? distributed = null)
    {
        ArgumentNullException.ThrowIfNull(loader);
        using var busy = EnterBusy("Fit");
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 0);
        ArgumentOutOfRangeException.ThrowIfNegative(initialEpoch);
        if (loader.Count == 0) throw new ArgumentException("Fit: the loader gives no batches.", nameof(loader));
        if (_losses.Length == 0 || Optimizer is null)
            throw new InvalidOperationException("Fit: compile the model first, e.g. model.Compile(\"mse\", \"adam\").");
        var comm = distributed is { Size: > 1 } ? distributed : null;
        if (comm is not null)
        {
            if (loader.BatchSize < comm.Size || loader.Dataset.Count < comm.Size)
                throw new ArgumentException($"Fit: a global batch of {loader.BatchSize} over {loader.Dataset.Count} samples cannot be split over {comm.Size} ranks; the batch size is the global one and must be at least the number of ranks.");
            if (comm.Rank != 0) verbose = 0;
        }

        var cbs = (callbacks ?? []).Where(cb => comm is null || comm.Rank == 0 || cb.RunsOnEveryRank).ToList();
        foreach (var cb in cbs) cb.Model = this;
        var history = new History();
        var progress = new ProgressBar(output ?? Console.Out, verbose, epochs, loader.Count);
        StopTraining = false;
        var outputLossSums = new double[OutputCount];
        DataParallel? parallel = null;
        try
        {
            foreach (var cb in cbs) cb.OnTrainBegin();
            for (int epoch = initialEpoch + 1; epoch <= epochs && !StopTraining; epoch++)
            {
                foreach (var cb in cbs) cb.OnEpochBegin(epoch);
                progress.BeginEpoch(epoch);
                Train();
                foreach (var m in Metrics) m.Reset();
                Array.Clear(outputLossSums);
                double lossSum = 0;
                long seen = 0;
                int step = 0;
                var logs = new Dictionary<string, float>();
                foreach (var (batch, offset, globalCount) in loader.Shards(comm?.Rank ?? 0, comm?.Size ?? 1))
                {
                    step++;
                    foreach (var cb in cbs) cb.OnBatchBegin(step);
                    if (batch is not null)
                    {
                        if (step == 1 && parallel is null) EnsureReady(batch, "Fit");
                        else CheckBatch(batch, "Fit", targets: true);
                    }
                    if (comm is not null && parallel is null)
                    {
                        parallel = new DataParallel(this, comm, Optimizer);
                        Optimizer.BeforeStep = parallel.FinishGradients;
                    }
                    if (Autograd.AnomalyMode.IsEnabled) Autograd.AnomalyMode.CurrentStep = $"epoch {epoch}, batch {step}";
                    int count = batch?.Count ?? 0;
                    _stepAt = terminateOnNaN ? (epoch, step) : null;
                    float lossValue = 0f;
                    // In a short last batch with fewer rows than ranks, some ranks get none; the last
                    // rank always has rows, and its generator and buffers become everyone's.
                    int root = comm is not null && globalCount < comm.Size ? comm.Size - 1 : 0;
                    if (batch is null)
                    {
                        parallel!.BackwardWithoutData(root);
                        Optimizer.Step();
                    }
                    else
                    {
                        using var stepScope = Tensor.StepScope();
                        using var shard = parallel is null ? default : BatchShard.Enter(offset, count, globalCount);
                        parallel?.BeginGradients((float)count / globalCount, root);
                        lossValue = TrainStep(batch);
                        parallel?.FinishGradients();
                    }
                    if (root != 0) SyncGenerator(comm!, root);
                    seen += count;
                    lossSum += (double)lossValue * count;
                    logs["loss"] = (float)(lossSum / Math.Max(1, seen));
                    LogOutputs(logs, outputLossSums, count, Math.Max(1, seen), "");
                    progress.Batch(step, logs);
                    foreach (var cb in cbs) cb.OnBatchEnd(step, logs);
                    // Ranks must take the same steps: with several, a stop takes effect at the epoch's end, decided by rank 0.
                    if (StopTraining && comm is null) break;
                }
                if (comm is not null) ReduceAcrossRanks(comm, logs, ref lossSum, ref seen, outputLossSums, "");
                if (validationData is not null)
                {
                    foreach (var (k, v) in EvaluateCore(validationData, loader.BatchSize, comm)) logs["val_" + k] = v;
                }
                progress.EndEpoch(epoch, logs);
                history.Append(logs);
                foreach (var cb in cbs) cb.OnEpochEnd(epoch, logs);
                if (comm is not null) ShareDecisions(comm);
            }
        }
        catch (Exception e) when (comm is not null)
        {
            // A rank that leaves would strand the others in a collective: end the whole job.
            Console.Error.WriteLine($"rank {comm.Rank}: Fit failed: {e.GetType().Name}: {e.Message}; aborting all {comm.Size} ranks.");
            comm.Abort(1);
        }
        finally
        {
            _stepAt = null;
            Autograd.AnomalyMode.CurrentStep = null;
            Optimizer.BeforeStep = null;
            foreach (var cb in cbs) cb.OnTrainEnd();
            Train();
        }
        return history;
    }

    /// <summary>Makes the calling thread's generator that of rank <paramref name="root"/> (after a step in which some ranks drew nothing).</summary>
    private static void SyncGenerator(ICommunicator comm, int root)
    {
        var state = Generator.Default.GetState();
        comm.Broadcast(System.Runtime.InteropServices.MemoryMarshal.AsBytes(state.AsSpan()), root);
        Generator.Default.SetState(state);
    }

    /// <summary>Rank 0's decisions at the end of an epoch (stop, learning rate) become every rank's.</summary>
    private void ShareDecisions(ICommunicator comm)
    {
        Span<float> decision = [StopTraining ? 1f : 0f, Optimizer!.Schedule is null ? Optimizer.LearningRate : 0f];
        comm.Broadcast(System.Runtime.InteropServices.MemoryMarshal.AsBytes(decision), 0);
        StopTraining = decision[0] != 0f;
        if (Optimizer.Schedule is null) Optimizer.LearningRate = decision[1];
    }

    /// <summary>
    /// Sums this rank's loss totals and metric totals with the other ranks' and rewrites
    /// <paramref name="logs"/> with the global values (a metric whose totals do not add keeps this rank's value).
    /// </summary>
    private void ReduceAcrossRanks(ICommunicator comm, Dictionary<string, float> logs, ref double lossSum, ref long seen, double[] outputLossSums, string prefix)
    {
        var totals = new List<double> { lossSum, seen };
        totals.AddRange(outputLossSums);
        foreach (var m in Metrics) totals.AddRange(m.GetTotals() ?? []);
        var values = totals.ToArray();
        comm.AllReduceSum(values.AsSpan());
        lossSum = values[0];
        seen = (long)values[1];
        int k = 2;
        for (int o = 0; o < outputLossSums.Length; o++) outputLossSums[o] = values[k++];
        foreach (var m in Metrics)
        {
            int n = m.GetTotals()?.Length ?? 0;
            if (n > 0) m.SetTotals(values.AsSpan(k, n));
            k += n;
        }
        logs[prefix + "loss"] = (float)(lossSum / Math.Max(1, seen));
        LogOutputs(logs, outputLossSums, 0, Math.Max(1, seen), prefix);
    }

    /// <summary>Adds each output's running loss (several outputs only) and every metric to <paramref name="logs"/>.</summary>
    private void LogOutputs(Dictionary<string, float> logs, double[] outputLossSums, int count, long seen, string prefix)
    {
        if (_losses.Length > 1)
        {
            for (int o = 0; o < _losses.Length; o++)
            {
                outputLossSums[o] += (double)_outputLosses[o] * count;
                logs[prefix + _logPrefixes[o] + "loss"] = (float)(outputLossSums[o] / seen);
            }
        }
        for (int o = 0; o < _outputMetrics.Length; o++)
        {
            foreach (var m in _outputMetrics[o]) logs[prefix + _logPrefixes[o] + m.Name] = m.Result();
        }
    }

    /// <summary>
    /// One optimizer step on one batch, as Keras's <c>train_on_batch</c>: forward in training mode,
    /// the compiled loss, backward, the optimizer's update. Returns the batch's loss (before the
    /// update). The step's activations are recycled for the next one (a <see cref="Autograd.StepScope"/>).
    /// </summary>
    public float TrainOnBatch(Tensor x, Tensor y)
    {
        Pair([x], [y], "TrainOnBatch", "x and y");
        return TrainOnBatch(new DataBatch([x], [y]));
    }

    /// <summary>As <see cref="TrainOnBatch(Tensor, Tensor)"/> for a batch of several inputs or outputs.</summary>
    public float TrainOnBatch(DataBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var busy = EnterBusy("TrainOnBatch");
        EnsureReady(batch, "TrainOnBatch");
        Train();
        using var step = Tensor.StepScope();
        return TrainStep(batch);
    }

    /// <summary>The loss and metrics on (x, y), in evaluation mode, computed in batches.</summary>
    public Dictionary<string, float> Evaluate(Tensor x, Tensor y, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        return Evaluate([x], [y], batchSize);
    }

    /// <summary>The loss and metrics for a model of several inputs or outputs.</summary>
    public Dictionary<string, float> Evaluate(IReadOnlyList<Tensor> x, IReadOnlyList<Tensor> y, int batchSize = 32) =>
        Evaluate(Pair(x, y, "Evaluate", "x and y"), batchSize);

    /// <summary>The loss (total and, for several outputs, each output's) and metrics on a dataset, in evaluation mode.</summary>
    public Dictionary<string, float> Evaluate(IDataset data, int batchSize = 32) => EvaluateCore(data, batchSize, null);

    /// <summary>As <see cref="Evaluate(IDataset, int)"/>; with several ranks, each evaluates its contiguous part of the data and the totals are summed.</summary>
    private Dictionary<string, float> EvaluateCore(IDataset data, int batchSize, ICommunicator? comm)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (data.Count == 0) throw new ArgumentException("Evaluate: the dataset has no samples.", nameof(data));
        using var busy = EnterBusy("Evaluate");
        foreach (var m in Metrics) m.Reset();
        double lossSum = 0;
        long seen = 0;
        var outputLossSums = new double[OutputCount];
        var result = new Dictionary<string, float>();
        IDataset part = comm is null ? data : RangeDataset.Part(data, comm.Rank, comm.Size);
        using (InferenceScope())
        {
            using var noGrad = Tensor.NoGrad();
            bool first = true;
            if (part.Count > 0)
            {
                foreach (var batch in new DataLoader(part, batchSize, shuffle: false, prefetch: data is not TensorDataset))
                {
                    if (first) EnsureReady(batch, "Evaluate");
                    else CheckBatch(batch, "Evaluate", targets: true);
                    first = false;
                    int count = batch.Count;
                    lossSum += (double)TestStep(batch) * count;
                    seen += count;
                    result["loss"] = (float)(lossSum / seen);
                    LogOutputs(result, outputLossSums, count, seen, "");
                }
            }
        }
        if (comm is not null) ReduceAcrossRanks(comm, result, ref lossSum, ref seen, outputLossSums, "");
        return result;
    }

    /// <summary>Samples [start, end) of another dataset.</summary>
    private sealed class RangeDataset(IDataset inner, int start, int end) : IDataset
    {
        /// <summary>Rank <paramref name="rank"/>'s contiguous part of <paramref name="data"/> (parts differ by at most one sample).</summary>
        public static RangeDataset Part(IDataset data, int rank, int ranks) =>
            new(data, (int)((long)data.Count * rank / ranks), (int)((long)data.Count * (rank + 1) / ranks));

        public int Count => end - start;

        public DataBatch Batch(ReadOnlySpan<int> indices)
        {
            var shifted = new int[indices.Length];
            for (int i = 0; i < shifted.Length; i++) shifted[i] = indices[i] + start;
            return inner.Batch(shifted);
        }
    }

    /// <summary>
    /// The model's outputs for x, in evaluation mode and without recording, computed in batches.
    /// Safe to call from many threads at once on one trained model.
    /// </summary>
    public Tensor Predict(Tensor x, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(x);
        var outputs = Predict([x], batchSize);
        return outputs.Count == 1 ? outputs[0] : throw new InvalidOperationException($"Model '{Name}' has {outputs.Count} outputs; call Predict with a list of inputs to get them all.");
    }

    /// <summary>The outputs (one tensor per output) for a model of several inputs.</summary>
    public IReadOnlyList<Tensor> Predict(IReadOnlyList<Tensor> x, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        foreach (var t in x)
        {
            ArgumentNullException.ThrowIfNull(t, nameof(x));
            if (t.Rank == 0 || t.Shape[0] == 0) throw new ArgumentException($"Predict: x must have at least one sample, got {t.ShapeString}.");
        }
        return Predict(new TensorDataset(x, []), batchSize);
    }

    /// <summary>The outputs for every sample of a dataset (its targets, if any, unused).</summary>
    public IReadOnlyList<Tensor> Predict(IDataset data, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        using (InferenceScope())
        {
            using var noGrad = Tensor.NoGrad();
            var parts = new List<IReadOnlyList<Tensor>>();
            foreach (var batch in new DataLoader(data, batchSize, shuffle: false, prefetch: data is not TensorDataset))
            {
                CheckBatch(batch, "Predict", targets: false);
                parts.Add(Forward(batch.Inputs));
            }
            if (parts.Count == 0) throw new ArgumentException("Predict: the dataset has no samples.", nameof(data));
            if (parts.Count == 1) return parts[0];
            return Enumerable.Range(0, parts[0].Count).Select(o => Tensor.Concat(parts.Select(p => p[o]).ToArray(), 0)).ToArray();
        }
    }

    /// <summary>Trainable parameters, and the rest (frozen parameters and buffers such as running statistics).</summary>
    public (long Trainable, long NonTrainable) ParameterCounts() =>
        (Parameters().Where(p => p.Trainable).Sum(p => (long)p.Value.Size),
         Parameters().Where(p => !p.Trainable).Sum(p => (long)p.Value.Size) + NamedBuffers().Sum(b => (long)b.Buffer.Size));

    /// <summary>The rows of <see cref="Summary"/>: each layer (or layer call) with its output shape, parameter count and, in a functional model, the layers it takes its inputs from.</summary>
    public virtual IReadOnlyList<LayerSummary> SummaryRows()
    {
        if (_graph is not null) return _graph.SummaryRows();
        if (!IsBuilt) throw new InvalidOperationException($"Summary: model '{Name}' is not built yet; call Fit or Predict first.");
        return [.. NamedChildren().Select(c => new LayerSummary(c.Name, c.Module.GetType().Name, "?", c.Module.ParameterCount()))];
    }

    /// <summary>
    /// A table of layers, output shapes and parameter counts (and, for a functional model, what each
    /// layer is connected to), as Keras's model.summary(); written to <paramref name="output"/>
    /// (default the console) and returned.
    /// </summary>
    public string Summary(TextWriter? output = null)
    {
        var summary = SummaryRows();
        bool connected = summary.Any(r => r.ConnectedTo is not null);
        var rows = summary.Select(r => new[] { $"{r.Name} ({r.Type})", r.Shape, r.Parameters.ToString("N0", CultureInfo.InvariantCulture), r.ConnectedTo ?? "" }).ToList();
        string[] headers = connected ? ["Layer (type)", "Output Shape", "Param #", "Connected to"] : ["Layer (type)", "Output Shape", "Param #"];
        int[] widths = [.. headers.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length)))];
        string Bar(char l, char m, char r) => l + string.Join(m, widths.Select(w => new string('─', w + 2))) + r;
        string Row(string[] cells) => "│ " + string.Join(" │ ", widths.Select((w, i) => i == 2 ? cells[i].PadLeft(w) : cells[i].PadRight(w))) + " │";
        var (trainable, frozen) = ParameterCounts();
        var sb = new StringBuilder();
        sb.AppendLine($"Model: \"{Name}\"");
        sb.AppendLine(Bar('┌', '┬', '┐'));
        sb.AppendLine(Row(headers));
        sb.AppendLine(Bar('├', '┼', '┤'));
        foreach (var r in rows) sb.AppendLine(Row(r));
        sb.AppendLine(Bar('└', '┴', '┘'));
        string Count(long n) => $"{n.ToString("N0", CultureInfo.InvariantCulture)} ({Bytes(n * 4)})";
        sb.AppendLine($" Total params: {Count(trainable + frozen)}");
        sb.AppendLine($" Trainable params: {Count(trainable)}");
        sb.AppendLine($" Non-trainable params: {Count(frozen)}");
        string text = sb.ToString();
        (output ?? Console.Out).Write(text);
        return text;
    }

    private static string Bytes(long b) => b < 1024 ? $"{b} B" : b < 1024 * 1024 ? $"{b / 1024.0:0.00} KB" : $"{b / (1024.0 * 1024):0.00} MB";

    /// <summary>
    /// Writes the whole model to one file (atomically): architecture, weights, compile settings
    /// and, with <paramref name="includeOptimizer"/>, the optimizer's state. <see cref="Load"/> reads it back.
    /// </summary>
    public void Save(string path, bool includeOptimizer = false) => ModelFile.Save(this, path, includeOptimizer);

    /// <summary>Reads a model written by <see cref="Save"/> (a Sequential or a functional model): rebuilt, with its weights, compiled if it was.</summary>
    public static Model Load(string path) => ModelFile.LoadModel(path);

    /// <summary>Writes the parameters and buffers to a safetensors file with PyTorch-style names (atomically).</summary>
    public void SaveWeights(string path)
    {
        if (!IsBuilt) throw new InvalidOperationException($"SaveWeights: model '{Name}' has no weights yet; build or fit it first.");
        SafeTensors.Save(path, StateDict());
    }

    /// <summary>
    /// Loads parameters and buffers from a safetensors file written by <see cref="SaveWeights"/> (or
    /// PyTorch), or a Hugging Face checkpoint (a folder or its index of shards; see
    /// <see cref="Checkpoint"/>), renamed by <paramref name="rename"/> (see <see cref="StateDictNames"/>).
    /// </summary>
    public StateDictReport LoadWeights(string path, bool strict = true, Func<string, string?>? rename = null)
    {
        if (!IsBuilt) throw new InvalidOperationException($"LoadWeights: build model '{Name}' first (Build(inputShape)) so its weights exist.");
        return Checkpoint.LoadInto(this, path, strict, rename);
    }

    private sealed class ModuleModel : Model
    {
        private readonly Module _module;

        public ModuleModel(Module module, string name) : base(name) => _module = AddModule("module", module);

        public override IReadOnlyList<Tensor> Forward(IReadOnlyList<Tensor> inputs)
        {
            ArgumentNullException.ThrowIfNull(inputs);
            if (inputs.Count != 1) throw new ArgumentException($"Model '{Name}' wraps a module of one input, got {inputs.Count}.");
            return [_module.Forward(inputs[0])];
        }
    }
}

/// <summary>One row of <see cref="Model.Summary"/>.</summary>
/// <param name="Name">The layer's name.</param>
/// <param name="Type">The layer's type.</param>
/// <param name="Shape">Its output shape, batch first as None.</param>
/// <param name="Parameters">Its parameter count.</param>
/// <param name="ConnectedTo">In a functional model, the layers whose outputs it takes (Keras's "Connected to"); null otherwise.</param>
public sealed record LayerSummary(string Name, string Type, string Shape, long Parameters, string? ConnectedTo = null);
