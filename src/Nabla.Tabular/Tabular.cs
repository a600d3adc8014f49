using System.Globalization;
using System.Text.Json.Nodes;
using Nabla.Callbacks;
using Nabla.Data;
using Nabla.IO;
using Nabla.Layers;
using Nabla.Losses;
using Nabla.Optimizers;
using Nabla.Training;

namespace Nabla.Tabular;

/// <summary>Classification (a class per row) or regression (a number per row).</summary>
public enum TabularTask
{
    /// <summary>Predict one of a set of labels.</summary>
    Classification,
    /// <summary>Predict a number.</summary>
    Regression,
}

/// <summary>
/// Turns CSV columns into model inputs, fitted on the training rows only: numeric columns are
/// standardised (mean 0, standard deviation 1 on the training rows); other columns are one-hot
/// encoded over the categories seen in training (an unseen category encodes as all zeros).
/// For classification the labels map to class indices; for regression the target is
/// standardised and predictions are mapped back. Saved with the model as JSON.
/// </summary>
public sealed class TabularPreprocessor
{
    private sealed record Column(string Name, bool Numeric, float Mean, float Std, string[] Categories);

    private readonly Column[] _features;

    private TabularPreprocessor(Column[] features, string label, TabularTask task, string[] classes, float targetMean, float targetStd)
    {
        _features = features;
        Label = label;
        Task = task;
        Classes = classes;
        TargetMean = targetMean;
        TargetStd = targetStd;
    }

    /// <summary>The label column.</summary>
    public string Label { get; }

    /// <summary>Classification or regression.</summary>
    public TabularTask Task { get; }

    /// <summary>The class labels, by index (classification).</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Mean of the training targets (regression).</summary>
    public float TargetMean { get; }

    /// <summary>Standard deviation of the training targets (regression).</summary>
    public float TargetStd { get; }

    /// <summary>How each feature column is encoded, in order: standardised with (mean, std), or one-hot over the categories.</summary>
    public IEnumerable<(string Name, bool Numeric, float Mean, float Std, string[] Categories)> Encodings =>
        _features.Select(f => (f.Name, f.Numeric, f.Mean, f.Std, f.Categories));

    /// <summary>Number of model inputs after encoding.</summary>
    public int FeatureCount => _features.Sum(f => f.Numeric ? 1 : f.Categories.Length);

    private static float Parse(string s) => float.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>
    /// Fits on <paramref name="trainRows"/>. The task, when not given, is regression for a numeric
    /// label with more than 10 distinct values (or any non-integer), classification otherwise.
    /// </summary>
    public static TabularPreprocessor Fit(CsvTable table, IReadOnlyList<int> trainRows, string label, TabularTask? task = null)
    {
        int labelIndex = table.ColumnIndex(label);
        table.RequireComplete();
        var features = new List<Column>();
        for (int c = 0; c < table.Columns.Count; c++)
        {
            if (c == labelIndex) continue;
            if (IsNumericColumn(table, c))
            {
                double[] v = trainRows.Select(r => (double)ParseFinite(table, r, c)).ToArray();
                double mean = v.Average(), std = Math.Sqrt(v.Average(x => (x - mean) * (x - mean)));
                features.Add(new Column(table.Columns[c], true, (float)mean, std > 1e-12 ? (float)std : 1f, []));
            }
            else
            {
                features.Add(new Column(table.Columns[c], false, 0, 1, trainRows.Select(r => table.Rows[r][c].Trim()).Distinct().Order(StringComparer.Ordinal).ToArray()));
            }
        }
        if (features.Count == 0)
            throw new ArgumentException($"{table.Source}: there are no feature columns besides the label '{label}'; a model needs at least one input column.");
        string[] labels = trainRows.Select(r => table.Rows[r][labelIndex].Trim()).ToArray();
        bool numeric = IsNumericColumn(table, labelIndex);
        TabularTask resolved = task ?? InferTask(labels, numeric);
        if (resolved == TabularTask.Regression)
        {
            if (!numeric) throw new ArgumentException($"{table.Source}: regression needs a numeric label, but column '{label}' is not.");
            double[] y = trainRows.Select(r => (double)ParseFinite(table, r, labelIndex)).ToArray();
            double mean = y.Average(), std = Math.Sqrt(y.Average(v => (v - mean) * (v - mean)));
            return new TabularPreprocessor([.. features], label, resolved, [], (float)mean, std > 1e-12 ? (float)std : 1f);
        }
        string[] classes = numeric
            ? labels.Distinct().OrderBy(Parse).ToArray()
            : labels.Distinct().Order(StringComparer.Ordinal).ToArray();
        if (classes.Length < 2) throw new ArgumentException($"{table.Source}: the training rows have only one class in column '{label}'.");
        return new TabularPreprocessor([.. features], label, resolved, classes, 0, 1);
    }

    /// <summary>
    /// True when every value of the column is a number. A column whose values are nearly all
    /// numbers (90% or more) but not all is an error naming the first value that is not: one typo
    /// (<c>abc</c>, <c>1,000</c>) would otherwise turn a numeric column into hundreds of one-hot inputs.
    /// </summary>
    public static bool IsNumericColumn(CsvTable table, int column)
    {
        ArgumentNullException.ThrowIfNull(table);
        int numbers = 0, firstBad = -1;
        for (int r = 0; r < table.Rows.Count; r++)
        {
            if (float.TryParse(table.Rows[r][column], NumberStyles.Float, CultureInfo.InvariantCulture, out _)) numbers++;
            else if (firstBad < 0) firstBad = r;
        }
        if (firstBad < 0) return true;
        if (numbers >= 0.9 * table.Rows.Count)
            throw new InvalidDataException($"{table.Source}: line {table.LineNumbers[firstBad]} column '{table.Columns[column]}': '{table.Rows[firstBad][column].Trim()}' is not a number, " +
                $"but {numbers} of the column's {table.Rows.Count} values are; fix it (numbers use a dot for decimals and no thousands separator) or mark it missing.");
        return false;
    }

    /// <summary>The value at (row, column) as a finite number, or an error naming its line and column.</summary>
    private static float ParseFinite(CsvTable table, int row, int column)
    {
        string value = table.Rows[row][column].Trim();
        if (!float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float v))
            throw new InvalidDataException($"{table.Source}: line {table.LineNumbers[row]} column '{table.Columns[column]}': '{value}' is not a number.");
        if (!float.IsFinite(v))
            throw new InvalidDataException($"{table.Source}: line {table.LineNumbers[row]} column '{table.Columns[column]}': '{value}' is not a finite number (float32 holds magnitudes up to 3.4e38).");
        return v;
    }

    /// <summary>Regression for a numeric label with more than 10 distinct values (or any non-integer), classification otherwise.</summary>
    public static TabularTask InferTask(IReadOnlyList<string> labels, bool numeric) =>
        numeric && (labels.Select(Parse).Any(v => v != MathF.Round(v)) || labels.Distinct().Count() > 10) ? TabularTask.Regression : TabularTask.Classification;

    /// <summary>The encoded features of the given rows, [n, FeatureCount].</summary>
    public Tensor Features(CsvTable table, IReadOnlyList<int> rows)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(rows);
        int[] index = _features.Select(f => table.ColumnIndex(f.Name)).ToArray();
        int width = FeatureCount;
        var x = new float[rows.Count * width];
        for (int i = 0; i < rows.Count; i++)
        {
            string[] row = table.Rows[rows[i]];
            int o = i * width;
            for (int f = 0; f < _features.Length; f++)
            {
                Column col = _features[f];
                string value = row[index[f]].Trim();
                if (col.Numeric)
                {
                    float v = ParseFinite(table, rows[i], index[f]);
                    float standardised = (v - col.Mean) / col.Std;
                    if (!float.IsFinite(standardised))
                        throw new InvalidDataException($"{table.Source}: line {table.LineNumbers[rows[i]]} column '{col.Name}': {value} is too far outside the training range (mean {col.Mean:G4}, standard deviation {col.Std:G4}) to standardise in float32.");
                    x[o++] = standardised;
                }
                else
                {
                    int k = Array.IndexOf(col.Categories, value);
                    if (k >= 0) x[o + k] = 1f;
                    o += col.Categories.Length;
                }
            }
        }
        return Tensor.FromArray(x, rows.Count, width);
    }

    /// <summary>The targets of the given rows: class indices [n], or standardised values [n, 1].</summary>
    public Tensor Targets(CsvTable table, IReadOnlyList<int> rows)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(rows);
        int c = table.ColumnIndex(Label);
        if (Task == TabularTask.Regression)
            return Tensor.FromArray(rows.Select(r => (ParseFinite(table, r, c) - TargetMean) / TargetStd).ToArray(), rows.Count, 1);
        var classIndex = new Dictionary<string, int>();
        for (int k = 0; k < Classes.Count; k++) classIndex.TryAdd(Classes[k], k);
        var y = new float[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            string value = table.Rows[rows[i]][c].Trim();
            if (!classIndex.TryGetValue(value, out int k)) throw new InvalidDataException($"{table.Source}: line {table.LineNumbers[rows[i]]}: class '{value}' of column '{Label}' was not in the training rows.");
            y[i] = k;
        }
        return Tensor.FromArray(y);
    }

    /// <summary>The settings as JSON, to keep with a saved model.</summary>
    public JsonObject ToJson() => new()
    {
        ["label"] = Label,
        ["task"] = Task.ToString(),
        ["classes"] = new JsonArray(Classes.Select(c => (JsonNode?)c).ToArray()),
        ["target_mean"] = TargetMean,
        ["target_std"] = TargetStd,
        ["features"] = new JsonArray(_features.Select(f => (JsonNode?)new JsonObject
        {
            ["name"] = f.Name,
            ["numeric"] = f.Numeric,
            ["mean"] = f.Mean,
            ["std"] = f.Std,
            ["categories"] = new JsonArray(f.Categories.Select(c => (JsonNode?)c).ToArray()),
        }).ToArray()),
    };

    /// <summary>
    /// Reads settings written by <see cref="ToJson"/>, checking each field: a missing or mistyped
    /// field, an unknown task, a standard deviation that is not positive and finite, or a name with
    /// control characters is an <see cref="InvalidDataException"/> naming <paramref name="source"/>.
    /// </summary>
    public static TabularPreprocessor FromJson(JsonObject json, string source = "preprocessing")
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            string label = Name(Field(json, "label").GetValue<string>(), "the label");
            string taskName = Field(json, "task").GetValue<string>();
            if (!Enum.TryParse(taskName, out TabularTask task) || !Enum.IsDefined(task) || taskName.Any(char.IsDigit))
                throw new FormatException($"task '{taskName}' is neither Classification nor Regression");
            string[] classes = Array(json, "classes").Select(c => Name(c!.GetValue<string>(), "a class")).ToArray();
            if (task == TabularTask.Classification && classes.Length < 2) throw new FormatException($"a classifier needs two or more classes, not {classes.Length}");
            if (task == TabularTask.Regression && classes.Length > 0) throw new FormatException("a regression has no classes");
            float targetMean = Finite(json, "target_mean"), targetStd = Positive(json, "target_std");
            var features = Array(json, "features").Select(n =>
            {
                var f = n as JsonObject ?? throw new FormatException("a feature is not an object");
                return new Column(Name(Field(f, "name").GetValue<string>(), "a feature"), Field(f, "numeric").GetValue<bool>(), Finite(f, "mean"), Positive(f, "std"),
                    Array(f, "categories").Select(c => c!.GetValue<string>()).ToArray());
            }).ToArray();
            if (features.Length == 0) throw new FormatException("it has no features");
            return new(features, label, task, classes, targetMean, targetStd);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException or ArgumentException or System.Text.Json.JsonException)
        {
            throw new InvalidDataException($"{source}: the tabular preprocessing cannot be read: {e.Message}.", e);
        }

        static JsonNode Field(JsonObject o, string name) => o[name] ?? throw new FormatException($"field '{name}' is missing");
        static JsonArray Array(JsonObject o, string name) => Field(o, name) as JsonArray ?? throw new FormatException($"field '{name}' is not a list");
        static float Finite(JsonObject o, string name)
        {
            float v = Field(o, name).GetValue<float>();
            return float.IsFinite(v) ? v : throw new FormatException($"field '{name}' is {v}, not a finite number");
        }
        static float Positive(JsonObject o, string name)
        {
            float v = Finite(o, name);
            return v > 0 ? v : throw new FormatException($"field '{name}' is {v}; a standard deviation must be positive");
        }
        static string Name(string value, string what) => ModelFile.CheckPrintable(value, what);
    }
}

/// <summary>Settings of <see cref="TabularTrainer.Train"/> (the flags of <c>nabla train</c>).</summary>
/// <param name="Label">The label column.</param>
/// <param name="Task">Classification or regression; inferred from the label column when null.</param>
/// <param name="Hidden">Hidden layer sizes (ReLU, He initialisation).</param>
/// <param name="Epochs">Training epochs.</param>
/// <param name="BatchSize">Rows per step.</param>
/// <param name="LearningRate">Optimizer learning rate; null for <see cref="TabularTrainer.DefaultLearningRate"/> of the task.</param>
/// <param name="Optimizer">sgd, adam, adamw, rmsprop or adagrad.</param>
/// <param name="Validation">Fraction of the non-test rows held out for validation.</param>
/// <param name="Test">Fraction of all rows held out for the final test.</param>
/// <param name="Seed">Seed of the split, the weights and the shuffling.</param>
/// <param name="EarlyStopping">Stop when the validation loss has not improved for 20 epochs, keeping the best weights.</param>
/// <param name="SavePath">Where to save the model (with its preprocessing), if anywhere.</param>
/// <param name="ModelPath">A JSON file describing the hidden layers (see <see cref="ModelDescription"/>); replaces <paramref name="Hidden"/>.</param>
/// <param name="Distributed">The ranks to train on data-parallel (<c>nabla train --distributed</c> under mpirun); only rank 0 saves.</param>
public sealed record TabularOptions(string Label, TabularTask? Task = null, int[]? Hidden = null, int Epochs = 100, int BatchSize = 32,
    float? LearningRate = null, string Optimizer = "adam", float Validation = 0.2f, float Test = 0.2f, ulong Seed = 42,
    bool EarlyStopping = false, string? SavePath = null, string? ModelPath = null, Nabla.Distributed.ICommunicator? Distributed = null)
{
    /// <summary>Weight decay of the optimizer (decoupled for AdamW); null keeps the optimizer's default.</summary>
    public float? WeightDecay { get; init; }
}

/// <summary>What <see cref="TabularTrainer.Train"/> produced.</summary>
/// <param name="Metrics">Final figures in order: test_accuracy, or test_rmse and test_mae; then test_loss, epochs, row counts.</param>
/// <param name="History">Loss and metrics per epoch, training and validation.</param>
/// <param name="Model">The trained network.</param>
/// <param name="Preprocessing">How rows became inputs.</param>
/// <param name="Confusion">For classification, counts of test rows by true class (rows) and predicted class (columns).</param>
public sealed record TabularResult(OrderedDictionary<string, double> Metrics, History History, Sequential Model, TabularPreprocessor Preprocessing, int[,]? Confusion)
{
    /// <summary>A final figure by name.</summary>
    public double this[string key] => Metrics[key];
}

/// <summary>
/// Trains a dense network on a CSV table: split (test, then validation) from the seed,
/// preprocessing fitted on the training rows only, a ReLU MLP, and test figures at the end.
/// </summary>
public static class TabularTrainer
{
    /// <summary>
    /// The learning rate used when none is given: 5e-3 for classification, 1e-3 for regression.
    /// Chosen from <c>nabla train --tune</c> on scikit-learn's tables: the best configurations of
    /// the classification searches used rates from 1.3e-3 to 3e-2, and 5e-3 brings the untuned
    /// network within 1 point of the tuned one on all four (docs/TUNING.md); on the diabetes
    /// regression, 5e-3 overfits its 282 training rows in 100 epochs (RMSE 71.9 against 64.7).
    /// </summary>
    public static float DefaultLearningRate(TabularTask task) => task == TabularTask.Classification ? 5e-3f : 1e-3f;

    /// <summary>Trains and evaluates; returns the final figures in order (test_accuracy, or test_rmse and test_mae, and more) with the history and the model.</summary>
    /// <param name="table">The rows.</param>
    /// <param name="o">The settings.</param>
    /// <param name="log">Where the data, split and progress lines go.</param>
    /// <param name="verbose">Fit's verbosity: 0 silent, 1 progress bar, 2 a line per epoch.</param>
    /// <param name="callbacks">More callbacks for Fit (a progress display, a logger).</param>
    public static TabularResult Train(CsvTable table, TabularOptions o, TextWriter log, int verbose = 0, IEnumerable<Callback>? callbacks = null)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(o);
        if (table.Rows.Count < 10) throw new ArgumentException($"{table.Source}: {table.Rows.Count} rows are too few to split into training, validation and test sets.");
        if (!(o.Test > 0 && o.Test < 1) || !(o.Validation >= 0 && o.Validation < 1))
            throw new ArgumentException($"Test fraction {o.Test} must be in (0, 1) and validation fraction {o.Validation} in [0, 1).");
        var (train, val, test, splitNote) = Split(table, o, log);
        var prep = TabularPreprocessor.Fit(table, train, o.Label, o.Task);
        Tensor xTrain = prep.Features(table, train), yTrain = prep.Targets(table, train);
        Tensor xTest = prep.Features(table, test), yTest = prep.Targets(table, test);
        log.WriteLine($"{table.Source}: {table.Rows.Count} rows; {prep.Task.ToString().ToLowerInvariant()} of '{o.Label}'" +
            (prep.Task == TabularTask.Classification ? $" into {prep.Classes.Count} classes" : "") +
            $"; {train.Length} training, {val.Length} validation, {test.Length} test rows; {prep.FeatureCount} inputs after encoding");
        log.WriteLine(splitNote);

        Generator.ManualSeed(o.Seed);
        var model = new Sequential(new Input(prep.FeatureCount)) { Name = "tabular" };
        if (o.ModelPath is not null)
        {
            foreach (Layer layer in ModelDescription.ReadLayers(o.ModelPath)) model.Add(layer);
        }
        else
        {
            foreach (int h in o.Hidden ?? [64, 32]) model.Add(new Dense(h, "relu", kernelInitializer: "he_uniform"));
        }
        bool classify = prep.Task == TabularTask.Classification;
        model.Add(new Dense(classify ? prep.Classes.Count : 1));
        Optimizer optimizer = Optimizer.Get(o.Optimizer);
        optimizer.LearningRate = o.LearningRate ?? DefaultLearningRate(prep.Task);
        if (o.WeightDecay is float decay) optimizer.WeightDecay = decay;
        if (classify) model.Compile(new SparseCategoricalCrossEntropy(fromLogits: true), optimizer, "accuracy");
        else model.Compile(new MeanSquaredError(), optimizer);
        var allCallbacks = new List<Callback>(callbacks ?? []);
        (Tensor, Tensor)? validation = val.Length > 0 ? (prep.Features(table, val), prep.Targets(table, val)) : null;
        if (o.EarlyStopping && validation is not null) allCallbacks.Add(new EarlyStopping("val_loss", patience: 20, restoreBestWeights: true));
        var history = model.Fit(xTrain, yTrain, epochs: o.Epochs, batchSize: o.BatchSize, validationData: validation, callbacks: allCallbacks, verbose: verbose, output: log, distributed: o.Distributed);

        var result = new OrderedDictionary<string, double>();
        var evaluation = model.Evaluate(xTest, yTest);
        int[,]? confusion = null;
        if (classify)
        {
            result["test_accuracy"] = evaluation["accuracy"];
            float[] predicted = model.Predict(xTest).ArgMax(1).ToArray(), truth = yTest.ToArray();
            confusion = new int[prep.Classes.Count, prep.Classes.Count];
            for (int i = 0; i < truth.Length; i++) confusion[(int)truth[i], (int)predicted[i]]++;
        }
        else
        {
            float[] p = model.Predict(xTest).ToArray(), t = yTest.ToArray();
            double se = 0, ae = 0;
            for (int i = 0; i < p.Length; i++)
            {
                double d = (p[i] - t[i]) * (double)prep.TargetStd;
                se += d * d;
                ae += Math.Abs(d);
            }
            result["test_rmse"] = Math.Sqrt(se / p.Length);
            result["test_mae"] = ae / p.Length;
        }
        result["test_loss"] = evaluation["loss"];
        result["epochs"] = history.Epochs;
        result["train_rows"] = train.Length;
        result["test_rows"] = test.Length;
        if (o.SavePath is not null && (o.Distributed?.Rank ?? 0) == 0)
        {
            ModelFile.Save(model, o.SavePath, extra: new Dictionary<string, string> { ["preprocessing"] = prep.ToJson().ToJsonString() });
            log.WriteLine($"saved the model and its preprocessing to {o.SavePath}");
        }
        return new TabularResult(result, history, model, prep, confusion);
    }

    /// <summary>
    /// Test rows, then validation rows out of the rest, each as scikit-learn's
    /// <c>train_test_split(test_size, random_state=seed)</c> would draw them (stratified by class
    /// for classification, when every class has at least two rows), so a figure measured with
    /// scikit-learn on the same seed uses the same test rows.
    /// </summary>
    internal static (int[] Train, int[] Validation, int[] Test, string Note) Split(CsvTable table, TabularOptions o, TextWriter log)
    {
        int labelIndex = table.ColumnIndex(o.Label);
        uint seed = (uint)(o.Seed & uint.MaxValue);
        string[] labels = table.Rows.Select(r => r[labelIndex].Trim()).ToArray();
        TabularTask task = o.Task ?? TabularPreprocessor.InferTask(labels, TabularPreprocessor.IsNumericColumn(table, labelIndex));
        (int[] A, int[] B) Draw(int[] rows, double fraction, string what)
        {
            if (task == TabularTask.Classification)
            {
                var counts = rows.GroupBy(r => labels[r]).ToDictionary(g => g.Key, g => g.Count());
                var names = counts.Keys.Order(StringComparer.Ordinal).ToList();
                int classesThatFit = (int)Math.Min(Math.Ceiling(fraction * rows.Length), Math.Floor((1 - fraction) * rows.Length));
                if (counts.Values.Min() >= 2 && names.Count >= 2 && classesThatFit >= names.Count)
                {
                    var (a, b) = TrainTestSplit.Stratified(rows.Select(r => (float)names.IndexOf(labels[r])).ToArray(), fraction, seed);
                    return (a.Select(i => rows[i]).ToArray(), b.Select(i => rows[i]).ToArray());
                }
                log.WriteLine($"note: the {what} split is not stratified: a class has fewer than two rows, or the split is too small to hold every class.");
            }
            var (x, y) = TrainTestSplit.Random(rows.Length, fraction, seed);
            return (x.Select(i => rows[i]).ToArray(), y.Select(i => rows[i]).ToArray());
        }
        // The fractions as the decimals they were written as (0.2f is 0.2000000030 as a double, and ceil(0.2000000030 * 150) is 31).
        var (rest, test) = Draw(Enumerable.Range(0, table.Rows.Count).ToArray(), (double)(decimal)o.Test, "test");
        string how = $"as scikit-learn's train_test_split(random_state={seed}{(task == TabularTask.Classification ? ", stratify=label" : "")})";
        if (o.Validation == 0) return (rest, [], test, $"split: test {o.Test:0.##} of the rows {how}; no validation rows");
        var (train, val) = Draw(rest, (double)(decimal)o.Validation, "validation");
        return (train, val, test, $"split: test {o.Test:0.##} of the rows, then validation {o.Validation:0.##} of the rest, {how}");
    }

    /// <summary>A model saved by <see cref="Train"/> with its preprocessing.</summary>
    /// <param name="Model">The network.</param>
    /// <param name="Preprocessing">How rows become inputs.</param>
    public sealed record SavedTabularModel(Model Model, TabularPreprocessor Preprocessing);

    /// <summary>Loads a model saved by <see cref="Train"/>, or explains that the file has no preprocessing.</summary>
    public static SavedTabularModel Load(string path)
    {
        var (model, metadata) = ModelFile.LoadWithMetadata(path);
        return new SavedTabularModel(model, ReadPreprocessing(model, metadata, path)
            ?? throw new InvalidDataException($"{path}: this model has no tabular preprocessing; it was not saved by nabla train."));
    }

    /// <summary>
    /// The tabular preprocessing kept in a model file's <paramref name="metadata"/>, checked against
    /// the loaded <paramref name="model"/> (inputs per row, outputs per class); null when the file has none.
    /// </summary>
    public static TabularPreprocessor? ReadPreprocessing(Model model, IReadOnlyDictionary<string, string> metadata, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(metadata);
        if (!metadata.TryGetValue("preprocessing", out string? text)) return null;
        JsonObject json;
        try
        {
            json = JsonNode.Parse(text) as JsonObject ?? throw new InvalidDataException($"{path}: its tabular preprocessing is not a JSON object.");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{path}: its tabular preprocessing is not valid JSON ({e.Message}).", e);
        }
        var prep = TabularPreprocessor.FromJson(json, path);
        // The preprocessing and the network must agree: inputs per row, and one output per class (or one number).
        int[] input = model.Layers[0].BuiltInputShape.ToArray();
        if (input.Length != 1 || input[0] != prep.FeatureCount)
            throw new InvalidDataException($"{path}: the network takes inputs of shape [{string.Join(", ", input)}] but the preprocessing makes {prep.FeatureCount} per row.");
        int outputs = model.OutputShape() is [int width] ? width : -1;
        int expected = prep.Task == TabularTask.Classification ? prep.Classes.Count : 1;
        if (outputs != expected)
            throw new InvalidDataException($"{path}: the network has output shape [{string.Join(", ", model.OutputShape())}] but the preprocessing's {prep.Task.ToString().ToLowerInvariant()} needs [{expected}].");
        return prep;
    }

    /// <summary>The loss and metrics of a saved model on the labelled rows of <paramref name="table"/>; a loss that is not finite is an error naming the first row whose output is not.</summary>
    public static Dictionary<string, float> Evaluate(SavedTabularModel saved, CsvTable table)
    {
        ArgumentNullException.ThrowIfNull(saved);
        ArgumentNullException.ThrowIfNull(table);
        var rows = Enumerable.Range(0, table.Rows.Count).ToArray();
        if (rows.Length == 0) throw new ArgumentException($"{table.Source}: there are no rows to evaluate.");
        Tensor x = saved.Preprocessing.Features(table, rows), y = saved.Preprocessing.Targets(table, rows);
        var metrics = saved.Model.Evaluate(x, y, batchSize: 256);
        if (float.IsFinite(metrics["loss"])) return metrics;
        // Only now run the rows again, to name the first one whose output is not finite.
        CheckFinite(saved.Model.Predict(x, batchSize: 256), table);
        throw new InvalidDataException($"{table.Source}: the loss is {metrics["loss"]}; the rows are too far outside what the model was trained on.");
    }

    /// <summary>Throws naming the first row whose model output is NaN or infinite.</summary>
    private static void CheckFinite(Tensor output, CsvTable table)
    {
        float[] v = output.ToArray();
        int width = output.Size / Math.Max(1, output.Shape[0]);
        for (int i = 0; i < v.Length; i++)
        {
            if (!float.IsFinite(v[i]))
                throw new InvalidDataException($"{table.Source}: line {table.LineNumbers[i / width]}: the model's output is {v[i]}; the row's values are too far outside what the model was trained on.");
        }
    }

    /// <summary>
    /// Predicts every row of <paramref name="table"/> (which needs the training columns; the label
    /// column is not needed): the predicted class and its probability, or the predicted number.
    /// </summary>
    public static (string[] Predictions, float[] Confidence) Predict(SavedTabularModel saved, CsvTable table)
    {
        var rows = Enumerable.Range(0, table.Rows.Count).ToArray();
        if (rows.Length == 0) throw new ArgumentException($"{table.Source}: there are no rows to predict.");
        Tensor output = saved.Model.Predict(saved.Preprocessing.Features(table, rows), batchSize: 256);
        CheckFinite(output, table);
        var prep = saved.Preprocessing;
        var predictions = new string[rows.Length];
        var confidence = new float[rows.Length];
        if (prep.Task == TabularTask.Regression)
        {
            float[] v = output.ToArray();
            for (int i = 0; i < v.Length; i++)
            {
                predictions[i] = (v[i] * prep.TargetStd + prep.TargetMean).ToString("G7", CultureInfo.InvariantCulture);
                confidence[i] = float.NaN;
            }
            return (predictions, confidence);
        }
        Tensor p = output.Softmax();
        float[] best = p.ArgMax(1).ToArray();
        for (int i = 0; i < rows.Length; i++)
        {
            predictions[i] = prep.Classes[(int)best[i]];
            confidence[i] = p[i, (int)best[i]];
        }
        return (predictions, confidence);
    }
}
