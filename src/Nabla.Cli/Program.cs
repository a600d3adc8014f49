using Nabla.Examples;

namespace Nabla.Cli;

/// <summary>The <c>nabla</c> command. With no arguments it runs the built-in tour.</summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static int Main(string[] args)
    {
        // --verbose anywhere: a user mistake shows its stack trace too.
        bool verbose = args.Contains("--verbose");
        args = args.Where(a => a != "--verbose").ToArray();
        // Under mpirun each rank's output goes through a pseudo-terminal, and .NET's console would
        // begin it with a terminal control sequence (keypad mode) that breaks --json output.
        if (Nabla.Distributed.MpiCommunicator.IsLaunchedByMpi) Environment.SetEnvironmentVariable("TERM", "dumb");
        bool distributed = args.Contains("--distributed");
        args = args.Where(a => a != "--distributed").ToArray();
        try
        {
            // Model files may hold imported ONNX graphs.
            Nabla.Onnx.OnnxImport.Register();
            if (distributed) StartDistributed();
            if (args.Length == 0) return Tour.Run(Console.Out);
            if (args.Contains("--help") || args.Contains("-h")) return Help(0);
            return args[0] switch
            {
                "example" => RunExample(args[1..]),
                "tour" => Tour.Run(Console.Out),
                "bench" => Bench.Run(args[1..]),
                "summary" => Summary(args[1..]),
                "export" => Export(args[1..]),
                "import" => Import(args[1..]),
                "train" => args.Contains("--images") ? ImageTraining.Train(args[1..]) : args.Contains("--audio") ? AudioTraining.Train(args[1..]) : Train(args[1..]),
                "predict" => args.Contains("--wav") ? AudioTraining.Predict(args[1..]) : Predict(args[1..]),
                "evaluate" => Evaluate(args[1..]),
                "datasets" => args.Length > 1 && args[1] == "export" ? ImageTraining.Export(args[2..]) : Datasets(),
                "--help" or "-h" or "help" => Help(0),
                _ => Fail($"unknown command '{args[0]}'."),
            };
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or InvalidDataException or FormatException or NotSupportedException
            or UnauthorizedAccessException or System.Text.Json.JsonException or OutOfMemoryException or InsufficientExecutionStackException)
        {
            Console.Error.WriteLine($"nabla: {RankPrefix()}{OneLine(UserMessage(e))}");
            if (verbose) Console.Error.WriteLine(e);
            if (Ranks is { Size: > 1 } ranks) ranks.Abort(1);
            return 1;
        }
        catch (Exception e)
        {
            // Not a user mistake that was foreseen: still one line, and the trace only when asked for.
            Console.Error.WriteLine($"nabla: {RankPrefix()}unexpected error ({e.GetType().Name}): {OneLine(e.Message)} Please report it; --verbose shows where it happened.");
            if (verbose) Console.Error.WriteLine(e);
            if (Ranks is { Size: > 1 } ranks) ranks.Abort(70);
            return 70;
        }
    }

    /// <summary>
    /// A command's final figures: one JSON line with the seconds taken (--json), or one readable line.
    /// Every training command ends with it, so scripts read them all alike.
    /// </summary>
    internal static void PrintMetrics(IEnumerable<KeyValuePair<string, double>> metrics, bool json, TimeSpan elapsed)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        if (json) Console.Out.WriteLine("{" + string.Join(",", metrics.Select(kv => $"\"{kv.Key}\":{kv.Value.ToString("G6", inv)}")) + $",\"seconds\":{elapsed.TotalSeconds.ToString("0.###", inv)}}}");
        else Console.Out.WriteLine(string.Join("  ", metrics.Select(kv => $"{kv.Key} {kv.Value.ToString("G5", inv)}")) + $"  ({elapsed.TotalSeconds.ToString("F1", inv)} s)");
    }

    private static string RankPrefix() => Ranks is { Size: > 1 } r ? $"rank {r.Rank}: " : "";

    /// <summary>The ranks of the MPI job this process belongs to (with --distributed), else null.</summary>
    internal static Nabla.Distributed.ICommunicator? Ranks { get; private set; }

    /// <summary>
    /// Joins the MPI job (--distributed): every rank prints one line naming itself, its MPI library
    /// and its threads on stderr; only rank 0 prints anything else or writes files.
    /// </summary>
    private static void StartDistributed()
    {
        var world = Nabla.Distributed.MpiCommunicator.World;
        Console.Error.WriteLine($"nabla: {world.Greeting}");
        Ranks = world;
        if (world.Rank != 0) Console.SetOut(TextWriter.Null);
    }

    private static string UserMessage(Exception e) => e switch
    {
        UnauthorizedAccessException => $"permission denied: {e.Message}",
        OutOfMemoryException => "not enough memory for this input or model; try a smaller one.",
        _ => e.Message,
    };

    /// <summary>The message on one line, with control characters (from file names, model files, data) shown as escapes, never sent to the terminal.</summary>
    internal static string OneLine(string message)
    {
        var sb = new System.Text.StringBuilder(message.Length);
        foreach (char c in message.Trim())
        {
            if (c is '\n' or '\r') sb.Append(' ');
            else if (char.IsControl(c)) sb.Append($"\\u{(int)c:x4}");
            else sb.Append(c);
        }
        return sb.ToString();
    }

    private static int RunExample(string[] args)
    {
        var options = Options.Parse(args, ["--epochs", "--seed", "--data", "--limit"], ["--json"]);
        if (options.Positional.Count != 1)
            return Fail($"example needs one name: {string.Join(", ", Example.All.Select(e => e.Name))}.");
        Example example = Example.Get(options.Positional[0]);
        bool json = options.Flags.Contains("--json");
        var settings = new ExampleOptions(
            Epochs: options.Int("--epochs"),
            Seed: (ulong)(options.Int("--seed") ?? 42),
            Verbose: json ? 0 : 2,
            DataPath: options.Values.GetValueOrDefault("--data"),
            Limit: options.Int("--limit"),
            Distributed: Ranks);
        // With --json, progress goes to stderr and stdout ends with one JSON line.
        TextWriter log = json ? Console.Error : Console.Out;
        log.WriteLine($"example {example.Name}: {example.Description}");
        ExampleResult result = example.Run(settings, log);
        if (json) Console.Out.WriteLine(result.ToJson());
        else Console.Out.WriteLine(string.Join("  ", result.Metrics.Select(kv => $"{kv.Key} {kv.Value:G5}")) + $"  ({result.Seconds:F1} s)");
        return 0;
    }

    private static int Summary(string[] args)
    {
        var options = Options.Parse(args, ["--model"], []);
        string path = options.Values.GetValueOrDefault("--model") ?? (options.Positional.Count == 1 ? options.Positional[0] : throw new ArgumentException("summary needs --model FILE."));
        Model model = Model.Load(path);
        model.Summary(Console.Out);
        if (model.Loss is not null)
            Console.Out.WriteLine($" Compiled with loss {string.Join(", ", model.Losses.Select(l => l.Name))}, optimizer {model.Optimizer!.GetType().Name} (step {model.Optimizer.Iterations}), metrics [{string.Join(", ", model.Metrics.Select(m => m.Name))}]");
        return 0;
    }

    private static int Train(string[] args)
    {
        var o = Options.Parse(args, ["--csv", "--label", "--task", "--layers", "--model", "--epochs", "--batch-size", "--lr", "--optimizer", "--validation", "--test", "--seed", "--save", "--plots", "--report",
            "--budget", "--folds", "--best", "--ensemble"], ["--early-stopping", "--json", "--tune"]);
        string csv = o.Values.GetValueOrDefault("--csv") ?? throw new ArgumentException("train needs --csv FILE.");
        string label = o.Values.GetValueOrDefault("--label") ?? throw new ArgumentException("train needs --label COLUMN.");
        Nabla.Tabular.TabularTask? task = o.Values.GetValueOrDefault("--task")?.ToLowerInvariant() switch
        {
            null => null,
            "classification" => Nabla.Tabular.TabularTask.Classification,
            "regression" => Nabla.Tabular.TabularTask.Regression,
            var t => throw new ArgumentException($"--task must be classification or regression, not '{t}'."),
        };
        int[]? layers = o.Values.TryGetValue("--layers", out string? l)
            ? l.Split(',').Select(x => int.TryParse(x, out int n) && n > 0 ? n : throw new ArgumentException($"--layers needs positive sizes separated by commas, like 64,32, not '{l}'.")).ToArray()
            : null;
        string? modelJson = o.Values.GetValueOrDefault("--model");
        if (modelJson is not null && layers is not null) throw new ArgumentException("give --layers or --model, not both.");
        if (modelJson is not null) Nabla.IO.ModelDescription.ReadLayers(modelJson); // check it before reading the data
        // A description written by --tune carries its training settings; flags given here win.
        var settings = modelJson is null ? null : Nabla.IO.ModelDescription.ReadTraining(modelJson);
        int epochs = o.Int("--epochs", min: 1) ?? settings?.Epochs ?? 100;
        string optimizer = o.Values.GetValueOrDefault("--optimizer") ?? settings?.Optimizer ?? "adam";
        _ = Nabla.Optimizers.Optimizer.Get(optimizer); // an unknown name fails now, not after reading the data
        var options = new Nabla.Tabular.TabularOptions(label, task, layers, epochs, o.Int("--batch-size", min: 1) ?? settings?.BatchSize ?? 32,
            o.Values.ContainsKey("--lr") ? o.Float("--lr", 0f, 0f, float.PositiveInfinity) : settings?.LearningRate, optimizer, o.Float("--validation", settings?.Validation ?? 0.2f, 0f, 1f, includeAbove: true), o.Float("--test", 0.2f, 0f, 1f),
            (ulong)(o.Int("--seed") ?? 42), o.Flags.Contains("--early-stopping"), o.Values.GetValueOrDefault("--save"), modelJson, Ranks)
        { WeightDecay = settings?.WeightDecay };
        if (o.Flags.Contains("--tune")) return TabularTuning.Run(o, options, csv);
        // Only rank 0 of a distributed run writes files and shows progress.
        bool writer = (Ranks?.Rank ?? 0) == 0;
        bool json = o.Flags.Contains("--json") || !writer;
        string? plots = writer ? o.Values.GetValueOrDefault("--plots") : null;
        string? report = writer ? o.Values.GetValueOrDefault("--report") : null;
        // Every output place is checked before the data is read, so a bad path does not throw a run away.
        if (options.SavePath is not null) Nabla.IO.AtomicFile.CheckWritable(options.SavePath, "--save");
        if (report is not null) Nabla.IO.AtomicFile.CheckWritable(report, "--report");
        if (plots is not null) Nabla.IO.AtomicFile.CheckWritableFolder(plots, "--plots");
        var notes = new NoteWriter(json ? Console.Error : Console.Out);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var table = Nabla.Data.CsvTable.Read(csv);
        Nabla.Tabular.TabularResult result = json
            ? Nabla.Tabular.TabularTrainer.Train(table, options, notes)
            : SpectreProgress.Run($"training on {Path.GetFileName(csv)}", epochs, progress => Nabla.Tabular.TabularTrainer.Train(table, options, notes, callbacks: [progress]));
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        // The pictures are drawn only when asked for: a confusion matrix of thousands of classes takes minutes.
        var pictures = new List<(string Caption, byte[] Png)>();
        if (plots is not null || report is not null)
        {
            pictures.Add(("Loss and metrics per epoch, training and validation", Charts.TrainingCurves(result.History, Path.GetFileName(csv))));
            if (result.Confusion is int[,] confusion)
            {
                var (counts, classes, shown) = Charts.MostFrequentClasses(confusion, result.Preprocessing.Classes, Charts.MaxConfusionClasses);
                pictures.Add(($"Confusion matrix of the test rows{(shown.Length > 0 ? ", " + shown : "")}", Charts.ConfusionMatrix(counts, classes, $"{Path.GetFileName(csv)}: test rows")));
                if (shown.Length > 0) notes.WriteLine($"note: the confusion matrix shows {shown}");
            }
        }
        if (plots is not null)
        {
            Directory.CreateDirectory(plots);
            string[] names = ["curves.png", "confusion.png"];
            for (int i = 0; i < pictures.Count; i++)
            {
                byte[] png = pictures[i].Png;
                Nabla.IO.AtomicFile.Write(Path.Combine(plots, names[i]), s => s.Write(png));
                notes.WriteLine($"wrote {Path.Combine(plots, names[i])}");
            }
        }
        if (report is not null)
        {
            var page = new Report
            {
                Title = $"nabla train: {Path.GetFileName(csv)}, label '{label}'",
                Notes = notes.Lines,
                Layers = result.Model.SummaryRows(),
                Metrics = result.Metrics,
                Pictures = pictures,
            };
            Nabla.IO.AtomicFile.WriteText(report, page.ToHtml());
            notes.WriteLine($"wrote {report}");
        }
        if (json)
        {
            PrintMetrics(result.Metrics, json: true, clock.Elapsed);
        }
        else
        {
            Tables.Summary(result.Model);
            Tables.Metrics(result.Metrics);
        }
        return 0;
    }

    private static int Predict(string[] args)
    {
        var o = Options.Parse(args, ["--model", "--csv", "--out"], []);
        string model = o.Values.GetValueOrDefault("--model") ?? throw new ArgumentException("predict needs --model FILE.");
        string csv = o.Values.GetValueOrDefault("--csv") ?? throw new ArgumentException("predict needs --csv FILE.");
        if (o.Values.TryGetValue("--out", out string? outPath)) Nabla.IO.AtomicFile.CheckWritable(outPath, "--out");
        var (network, metadata) = Nabla.IO.ModelFile.LoadWithMetadata(model);
        var preprocessing = Nabla.Tabular.TabularTrainer.ReadPreprocessing(network, metadata, model);
        var table = Nabla.Data.CsvTable.Read(csv);
        string Quote(string v) => v.Contains(',') || v.Contains('"') || v.Contains('\n') ? "\"" + v.Replace("\"", "\"\"") + "\"" : v;
        List<string> lines;
        if (preprocessing is null) lines = RawModelCsv.Predict(network, table, Quote);
        else
        {
            var (predictions, confidence) = Nabla.Tabular.TabularTrainer.Predict(new(network, preprocessing), table);
            bool classify = preprocessing.Task == Nabla.Tabular.TabularTask.Classification;
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            lines = [string.Join(",", table.Columns.Select(Quote)) + ",prediction" + (classify ? ",probability" : "")];
            for (int i = 0; i < predictions.Length; i++)
                lines.Add(string.Join(",", table.Rows[i].Select(Quote)) + "," + Quote(predictions[i]) + (classify ? "," + confidence[i].ToString("0.####", inv) : ""));
        }
        if (o.Values.TryGetValue("--out", out string? output))
        {
            Nabla.IO.AtomicFile.WriteText(output, string.Join("\n", lines) + "\n");
            Console.Out.WriteLine($"wrote {lines.Count - 1} predictions to {output}");
        }
        else
        {
            foreach (string line in lines) Console.Out.WriteLine(line);
        }
        return 0;
    }

    private static int Evaluate(string[] args)
    {
        var o = Options.Parse(args, ["--model", "--csv", "--label"], ["--json"]);
        string model = o.Values.GetValueOrDefault("--model") ?? throw new ArgumentException("evaluate needs --model FILE.");
        string csv = o.Values.GetValueOrDefault("--csv") ?? throw new ArgumentException("evaluate needs --csv FILE.");
        var (network, metadata) = Nabla.IO.ModelFile.LoadWithMetadata(model);
        var preprocessing = Nabla.Tabular.TabularTrainer.ReadPreprocessing(network, metadata, model);
        var table = Nabla.Data.CsvTable.Read(csv);
        var metrics = preprocessing is not null
            ? Nabla.Tabular.TabularTrainer.Evaluate(new(network, preprocessing), table)
            : RawModelCsv.Evaluate(network, table, o.Values.GetValueOrDefault("--label")
                ?? throw new ArgumentException($"{model} has no saved preprocessing (it was not made by nabla train): evaluate needs --label COLUMN, and feeds the other numeric columns as they are."));
        int rowCount = table.Rows.Count;
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        if (o.Flags.Contains("--json"))
            Console.Out.WriteLine("{" + string.Join(",", metrics.Select(kv => $"\"{kv.Key}\":{kv.Value.ToString("G6", inv)}")) + $",\"rows\":{rowCount}}}");
        else
            Console.Out.WriteLine($"{rowCount} rows: " + string.Join("  ", metrics.Select(kv => $"{kv.Key} {kv.Value.ToString("G5", inv)}")));
        return 0;
    }

    private static int Datasets()
    {
        foreach (var d in new[] { Nabla.Data.FashionMnist.Dataset, Nabla.Data.Mnist.Dataset })
        {
            string? found = d.Find();
            Console.Out.WriteLine($"{d.Name,-24} {(found is null ? "not found" : "found in " + found)}");
            if (found is null) Console.Out.WriteLine($"{"",-24} searched: {string.Join(", ", d.SearchPath())}");
        }
        Console.Out.WriteLine("  fashion-mnist: apt-get install dataset-fashion-mnist (or bash scripts/install-data.sh); downloaded into the cache when missing.");
        Console.Out.WriteLine("  mnist: no Debian package; put the four IDX files in $NABLA_DATA/mnist or ~/.cache/nabla/mnist.");
        // Files the examples read from the shared folder beside the project (CI has it there), or from --data.
        var files = new (string Name, string Path, string Example)[]
        {
            ("sentiment-sentences", "sentiment-sentences/yelp_labelled.txt", "sentiment"),
            ("sms-spam-collection", "sms-spam-collection/SMSSpamCollection", "spam"),
            ("movielens-latest-small", "movielens-latest-small/ratings.csv", "recommender"),
            ("co2-mauna-loa", "co2-mauna-loa/co2_mm_mlo.csv", "forecast"),
        };
        foreach (var (name, rel, example) in files)
        {
            string? found = Example.SharedDatasetFolders.Select(d => Path.GetFullPath(Path.Combine(d, rel))).FirstOrDefault(File.Exists);
            Console.Out.WriteLine($"{name,-24} {(found is null ? "not found beside the project; pass its path with --data" : "found in " + Path.GetDirectoryName(found))}  [{example}]");
        }
        string? sklearn = new[] { "/usr/lib/python3/dist-packages/sklearn/datasets/data", Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache/nabla/sklearn-data") }
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "wine_data.csv")));
        Console.Out.WriteLine($"{"scikit-learn tables",-24} {(sklearn is null ? "not found: bash scripts/install-data.sh unpacks them from python3-sklearn" : "found in " + sklearn)}  [nabla train; scripts/sklearn-tables.py exports them as CSV]");
        Console.Out.WriteLine("your own tables: nabla train --csv FILE --label COLUMN");
        return 0;
    }

    private static int Import(string[] args)
    {
        var o = Options.Parse(args, ["--out", "--input-shape", "--output"], []);
        if (o.Positional.Count != 1) throw new ArgumentException("import needs one ONNX file: nabla import model.onnx --out model.nabla [--input-shape NAME=D1xD2...].");
        string onnx = o.Positional[0];
        string output = o.Values.GetValueOrDefault("--out") ?? Path.ChangeExtension(onnx, ".nabla");
        Nabla.IO.AtomicFile.CheckWritable(output, "--out");
        var shapes = new Dictionary<string, int[]>();
        if (o.Values.GetValueOrDefault("--input-shape") is string spec)
        {
            foreach (string part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = part.LastIndexOf('=');
                if (eq <= 0) throw new ArgumentException($"--input-shape '{part}' should be NAME=D1xD2... (one sample, batch excluded).");
                try
                {
                    shapes[part[..eq]] = [.. part[(eq + 1)..].Split('x').Select(d => int.Parse(d, System.Globalization.CultureInfo.InvariantCulture))];
                }
                catch (FormatException)
                {
                    throw new ArgumentException($"--input-shape '{part}': the dimensions should be whole numbers joined by x, e.g. image=1x28x28.");
                }
            }
        }
        Model network = Nabla.Onnx.OnnxImport.Load(onnx, shapes, o.Values.GetValueOrDefault("--output"));
        network.Save(output);
        long weights = network.Parameters().Sum(p => (long)p.Value.Size);
        Console.Out.WriteLine($"imported {onnx} ({weights:N0} trainable weights, {network.NamedBuffers().Count()} buffers) as {output}");
        return 0;
    }

    private static int Export(string[] args)
    {
        var options = Options.Parse(args, ["--model", "--onnx"], []);
        string model = options.Values.GetValueOrDefault("--model") ?? throw new ArgumentException("export needs --model FILE.");
        string onnx = options.Values.GetValueOrDefault("--onnx") ?? throw new ArgumentException("export needs --onnx OUT.onnx.");
        Nabla.IO.AtomicFile.CheckWritable(onnx, "--onnx");
        var (network, metadata) = Nabla.IO.ModelFile.LoadWithMetadata(model);
        // A model from nabla train exports its whole pipeline, so ONNX Runtime alone gives what predict gives.
        var preprocessing = Nabla.Tabular.TabularTrainer.ReadPreprocessing(network, metadata, model);
        Nabla.IO.OnnxExport.Save(network, onnx, preprocessing is null ? null : new Nabla.Tabular.TabularOnnxPipeline(preprocessing));
        if (preprocessing is null)
            Console.Out.WriteLine($"wrote {onnx} (ONNX opset {Nabla.IO.OnnxExport.Opset})");
        else
            Console.Out.WriteLine($"wrote {onnx} (ONNX opset {Nabla.IO.OnnxExport.Opset}): inputs are the table's columns " +
                $"({string.Join(", ", preprocessing.Encodings.Select(c => c.Name + (c.Numeric ? " float" : " string")))}, each [N, 1]); " +
                (preprocessing.Task == Nabla.Tabular.TabularTask.Classification ? "outputs label, probability and probabilities" : "output prediction"));
        return 0;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"nabla: {message} Run 'nabla help' for the commands and their options.");
        return 2;
    }

    private static int Help(int code)
    {
        (code == 0 ? Console.Out : Console.Error).WriteLine($"""
            usage: nabla [command]

            commands:
              (none), tour                        the textbook XOR networks: why the naive one fails, then one that learns
              example NAME [--epochs N] [--seed S] [--data DIR] [--limit N] [--json]
                                                  run a built-in example: {string.Join(", ", Example.All.Select(e => e.Name))}
              summary --model FILE                layers, shapes and parameter counts of a saved model
              export --model FILE --onnx OUT      write a saved model as ONNX (a model from train: the whole pipeline, raw columns in, labels out)
              import MODEL.onnx [--out FILE] [--input-shape NAME=D1xD2...] [--output NAME]
                                                  read an ONNX model (from PyTorch, Keras, Nabla) as a Nabla model file to
                                                  summarise, predict, evaluate or fine-tune
              train --csv FILE --label COLUMN [--task classification|regression] [--layers 64,32 | --model model.json]
                    [--epochs N] [--batch-size N] [--lr X] [--optimizer adam] [--validation 0.2]
                    [--test 0.2] [--seed S] [--early-stopping] [--save FILE] [--plots DIR]
                    [--report FILE.html] [--json]
                                                  train a dense network on a CSV table; the split is scikit-learn's
                                                  train_test_split(random_state=S), stratified for classification
              train --csv FILE --label COLUMN --tune [--budget 60s|10m] [--folds 5] [--ensemble K] [--best best.json] [--save FILE] [--report FILE.html]
                                                  search depth, width, activation, dropout, learning rate, weight decay and
                                                  batch size by cross-validation on the training rows within the budget,
                                                  then train the best on them (and save the average of the 5 best, or
                                                  --ensemble K); --best writes the best for --model
              predict --model FILE --csv FILE [--out FILE]
                                                  predictions of a model saved by train, as CSV; any other model gets
                                                  the numeric columns in file order and adds its outputs as output_0..
              train --images DIR [--image-size HxW] [--channels 1|3] [--augment] [--epochs N] [--save FILE] [--json]
                                                  a CNN for a folder of images, one sub-folder per class (docs/IMAGES.md)
              train --audio DIR [--labels a,b,...] [--seconds 1] [--epochs N] [--save FILE] [--json]
                                                  a CNN over log-mel spectrograms for a folder of WAV clips, one sub-folder
                                                  per label; predict --model FILE --wav FILE_OR_DIR labels new clips
              datasets export fashion-mnist --out DIR
                                                  Fashion-MNIST as PNG files in class folders
              evaluate --model FILE --csv FILE [--label COLUMN] [--json]
                                                  loss and metrics of a model saved by train on labelled rows; any other
                                                  model: accuracy (several outputs) or RMSE (one) against --label
              datasets                            the known datasets, where each was found, how to get it
              bench [--threads N] [--only a,b] [--quick]
                                                  the benchmark workloads, as JSON lines on stdout
              help                                show this text
            --verbose (any command): show the stack trace of an error too
            """);
        return code;
    }
}
