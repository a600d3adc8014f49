using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Nabla.Callbacks;
using Nabla.Data;
using Nabla.IO;
using Nabla.Layers;
using Nabla.Tabular;
using Nabla.Training;

namespace Nabla.Tests;

/// <summary>
/// The defects found by using Nabla as a hostile user would (edited model files, bad tables,
/// special output files, two threads on one model): each is now a clear exception, never gigabytes,
/// a silent NaN, a wrong answer or a replaced system file.
/// </summary>
public sealed class HostileInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nabla-hostile").FullName;

    public void Dispose()
    {
        Directory.Delete(_dir, true);
        GC.SuppressFinalize(this);
    }

    private string PathOf(string name) => Path.Combine(_dir, name);

    /// <summary>Saves <paramref name="model"/>, lets <paramref name="edit"/> change its metadata, and writes it back with the same tensors.</summary>
    private string EditedModelFile(Sequential model, Action<Dictionary<string, string>> edit, Action<OrderedDictionary<string, Tensor>>? editTensors = null)
    {
        string path = PathOf($"model-{Guid.NewGuid():N}.nabla");
        ModelFile.Save(model, path);
        var (tensors, metadata) = SafeTensors.LoadWithMetadata(path);
        edit(metadata);
        editTensors?.Invoke(tensors);
        SafeTensors.Save(path, tensors, metadata);
        return path;
    }

    private static void EditLayer(Dictionary<string, string> metadata, int layer, string field, JsonNode value)
    {
        var arch = JsonNode.Parse(metadata["architecture"])!.AsObject();
        arch["layers"]![layer]!["config"]![field] = value;
        metadata["architecture"] = arch.ToJsonString();
    }

    /// <summary>Loads the file on this thread and returns the exception with the bytes this thread allocated doing it.</summary>
    private static (InvalidDataException Error, long Bytes) LoadFails(string path)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path));
        return (error, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void An_edited_architecture_that_asks_for_more_weights_than_the_file_holds_fails_before_allocating_them()
    {
        // Dense units 300 000 000 (8.2 GB before the fix), Embedding 1048576 x 400 (1.7 GB), LSTM 2000 units (minutes of orthogonal init).
        string dense = EditedModelFile(new Sequential(new Input(5), new Dense(4), new Dense(2)), m => EditLayer(m, 1, "units", 300_000_000));
        string embedding = EditedModelFile(new Sequential(new Embedding(10, 4, inputLength: 3), new Flatten(), new Dense(2)), m =>
        {
            EditLayer(m, 0, "input_dim", 1_048_576);
            EditLayer(m, 0, "output_dim", 400);
        });
        string lstm = EditedModelFile(new Sequential(new LSTM(3, inputShape: [4, 2]), new Dense(1)), m => EditLayer(m, 0, "units", 2000));
        foreach (string path in new[] { dense, embedding, lstm })
        {
            var (error, bytes) = LoadFails(path);
            Assert.Contains(path, error.Message);
            Assert.Contains("more weights than the file holds", error.Message);
            Assert.True(bytes < 64L << 20, $"{Path.GetFileName(path)}: loading allocated {bytes:N0} bytes before failing");
        }
    }

    [Fact]
    public void A_huge_input_shape_in_a_model_file_is_refused()
    {
        string path = EditedModelFile(new Sequential(new Input(5), new Dense(2)), m =>
        {
            var arch = JsonNode.Parse(m["architecture"])!.AsObject();
            arch["input_shape"] = new JsonArray(2147483647);
            m["architecture"] = arch.ToJsonString();
        });
        var (error, bytes) = LoadFails(path);
        Assert.Contains("input_shape [2147483647]", error.Message);
        Assert.True(bytes < 64L << 20, $"allocated {bytes:N0} bytes");
    }

    [Fact]
    public void A_functional_model_file_with_a_huge_input_or_a_broken_graph_is_refused()
    {
        var a = new Input("a", 5);
        var model = new Model(a, new Dense(2).Apply(new Dense(3).Apply(a)));
        string path = PathOf("functional.nabla");
        model.Save(path);
        string Edited(string name, Action<JsonObject> edit)
        {
            var (tensors, metadata) = SafeTensors.LoadWithMetadata(path);
            var arch = JsonNode.Parse(metadata["architecture"])!.AsObject();
            edit(arch);
            metadata["architecture"] = arch.ToJsonString();
            string edited = PathOf(name);
            SafeTensors.Save(edited, tensors, metadata);
            return edited;
        }
        string huge = Edited("huge.nabla", arch => arch["layers"]![0]!["config"]!["shape"] = new JsonArray(2147483647));
        string forward = Edited("forward.nabla", arch => arch["nodes"]![1]!["inputs"] = new JsonArray(2));
        string unknown = Edited("unknown.nabla", arch => arch["nodes"]![2]!["layer"] = "nowhere");
        string output = Edited("output.nabla", arch => arch["outputs"] = new JsonArray(7));
        foreach (var (file, expected) in new[] { (huge, "needs a tensor of 2,147,483,647 values"), (forward, "does not come before"), (unknown, "'nowhere'"), (output, "does not come before") })
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var error = Assert.Throws<InvalidDataException>(() => Model.Load(file));
            Assert.Contains(file, error.Message);
            Assert.Contains(expected, error.Message);
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64L << 20);
        }
    }

    [Fact]
    public void Loading_a_model_file_skips_orthogonal_initialisation_and_keeps_the_files_weights()
    {
        // Gram-Schmidt is cubic in the size (minutes for 2000 units), and the file's values replace it anyway.
        using (LoadBudget.Open(1 << 20))
        {
            Assert.All(new Nabla.Initializers.Orthogonal().Create([16, 8], new Generator(1)).ToArray(), v => Assert.Equal(0f, v));
        }
        Assert.Contains(new Nabla.Initializers.Orthogonal().Create([16, 8], new Generator(1)).ToArray(), v => v != 0f);
        var model = new Sequential(new LSTM(64, inputShape: [3, 2]), new Dense(1));
        string path = PathOf("lstm.nabla");
        ModelFile.Save(model, path);
        var loaded = ModelFile.Load(path);
        Assert.Equal(model.StateDict()["0.weight_hh_l0"].ToArray(), loaded.StateDict()["0.weight_hh_l0"].ToArray());
        Assert.False(LoadBudget.Active);
    }

    [Theory]
    [InlineData("compile", "{\"loss\": ")]
    [InlineData("compile", "{\"loss\": \"no_such_loss\"}")]
    [InlineData("optimizer", "[1, 2]")]
    [InlineData("optimizer", "{\"type\": \"Adam\", \"iterations\": -3}")]
    public void Malformed_compile_or_optimizer_metadata_is_an_invalid_data_error(string key, string value)
    {
        var model = new Sequential(new Input(3), new Dense(2));
        model.Compile("mse", "adam");
        string path = EditedModelFile(model, m => m[key] = value);
        if (key == "optimizer") SetCompile(path);
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path));
        Assert.Contains(path, error.Message);

        static void SetCompile(string path)
        {
            var (t, m) = SafeTensors.LoadWithMetadata(path);
            m.TryAdd("compile", "{\"loss\": \"mse\", \"metrics\": []}");
            SafeTensors.Save(path, t, m);
        }
    }

    [Theory]
    [InlineData("\u001b]0;pwned\u0007")]
    [InlineData("dense\nfake line")]
    public void Control_characters_in_names_from_a_model_file_are_refused(string name)
    {
        string layerName = EditedModelFile(new Sequential(new Input(3), new Dense(2)), m =>
        {
            var arch = JsonNode.Parse(m["architecture"])!.AsObject();
            arch["layers"]![1]!["name"] = name;
            m["architecture"] = arch.ToJsonString();
        });
        Assert.Contains("control character", Assert.Throws<InvalidDataException>(() => ModelFile.Load(layerName)).Message);
        string modelName = EditedModelFile(new Sequential(new Input(3), new Dense(2)), m =>
        {
            var arch = JsonNode.Parse(m["architecture"])!.AsObject();
            arch["name"] = name;
            m["architecture"] = arch.ToJsonString();
        });
        Assert.Contains("control character", Assert.Throws<InvalidDataException>(() => ModelFile.Load(modelName)).Message);
    }

    [Theory]
    [InlineData("{\"epoch\": 3, \"generator\": [\"99999999999999999999999\", \"1\", \"2\", \"3\"]}", "generator")]
    [InlineData("{\"epoch\": -7, \"generator\": [\"1\", \"1\", \"2\", \"3\"]}", "epoch -7")]
    [InlineData("{\"epoch\": 2, \"generator\": [\"1\", \"2\"]}", "4 words")]
    [InlineData("{\"epoch\": 2, \"generator\": [\"0\", \"0\", \"0\", \"0\"]}", "all zeros")]
    public void A_tampered_checkpoint_training_state_is_an_invalid_data_error(string state, string fragment)
    {
        string path = EditedModelFile(new Sequential(new Input(3), new Dense(2)), m => m["training"] = state);
        var error = Assert.Throws<InvalidDataException>(() => ModelFile.LoadCheckpoint(path));
        Assert.Contains(fragment, error.Message);
    }

    [Fact]
    public void Safetensors_data_must_be_covered_exactly_by_the_tensors()
    {
        string path = PathOf("t.safetensors");
        SafeTensors.Save(path, [new("a", Tensor.Ones(2, 3)), new("b", Tensor.Ones(4))]);
        Assert.Equal(2, SafeTensors.Load(path).Count);
        File.AppendAllText(path, "trailing");
        Assert.Contains("after the last tensor", Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path)).Message);

        // A header whose first tensor starts 8 bytes into the data: a gap nothing claims.
        string header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
        var bytes = new List<byte>(BitConverter.GetBytes((long)header.Length));
        bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(header));
        bytes.AddRange(new byte[12]);
        File.WriteAllBytes(path, [.. bytes]);
        Assert.Contains("belong to no tensor", Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path)).Message);
    }

    private string Csv(string name, string text)
    {
        string path = PathOf(name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>A table of two numeric columns, one text column and a class label, easy to learn.</summary>
    private static string Rows(int n, Func<int, string>? width = null)
    {
        var lines = new List<string> { "width,height,colour,label" };
        var g = new Random(3);
        for (int i = 0; i < n; i++)
        {
            double w = g.NextDouble() * 4, h = g.NextDouble();
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{width?.Invoke(i) ?? w.ToString("F3", CultureInfo.InvariantCulture)},{h:F3},{(i % 2 == 0 ? "red" : "blue")},{(w > 2 ? "big" : "small")}"));
        }
        return string.Join("\n", lines) + "\n";
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1,000")]
    [InlineData("inf")]
    public void One_non_number_in_a_numeric_column_is_an_error_naming_line_and_column(string bad)
    {
        string value = bad.Contains(',') ? $"\"{bad}\"" : bad;
        var table = CsvTable.Read(Csv("typo.csv", Rows(60, i => i == 17 ? value : (i * 0.05).ToString("F2", CultureInfo.InvariantCulture))));
        var error = Assert.Throws<InvalidDataException>(() => TabularTrainer.Train(table, new TabularOptions("label", Epochs: 1), TextWriter.Null));
        Assert.Contains("line 19 column 'width'", error.Message);
        Assert.Contains($"'{bad}' is not a number", error.Message);
    }

    [Theory]
    [InlineData("Infinity")]
    [InlineData("1e39")]
    [InlineData("-Infinity")]
    public void A_value_beyond_float_range_in_training_data_names_its_line_and_column(string bad)
    {
        var table = CsvTable.Read(Csv("inf.csv", Rows(60, i => i == 30 ? bad : "1.5")));
        var error = Assert.Throws<InvalidDataException>(() => TabularTrainer.Train(table, new TabularOptions("label", Epochs: 1), TextWriter.Null));
        Assert.Contains("line 32 column 'width'", error.Message);
        Assert.Contains("not a finite number", error.Message);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("3e38")]
    public void Predict_and_evaluate_refuse_values_that_give_no_finite_answer(string bad)
    {
        string model = PathOf("m.nabla");
        TabularTrainer.Train(CsvTable.Read(Csv("train.csv", Rows(80))), new TabularOptions("label", Epochs: 3, SavePath: model), TextWriter.Null);
        var saved = TabularTrainer.Load(model);
        var rows = CsvTable.Read(Csv("new.csv", $"width,height,colour,label\n1.0,0.5,red,small\n{bad},0.5,blue,big\n"));
        var predict = Assert.Throws<InvalidDataException>(() => TabularTrainer.Predict(saved, rows));
        Assert.Contains("line 3", predict.Message);
        var evaluate = Assert.Throws<InvalidDataException>(() => TabularTrainer.Evaluate(saved, rows));
        Assert.Contains("line 3", evaluate.Message);
    }

    [Fact]
    public void A_table_with_only_the_label_column_says_so()
    {
        var table = CsvTable.Read(Csv("label-only.csv", "label\n" + string.Join("\n", Enumerable.Range(0, 20).Select(i => i % 2 == 0 ? "a" : "b")) + "\n"));
        var error = Assert.Throws<ArgumentException>(() => TabularTrainer.Train(table, new TabularOptions("label", Epochs: 1), TextWriter.Null));
        Assert.Contains("no feature columns besides the label 'label'", error.Message);
    }

    [Fact]
    public void A_directory_given_as_a_csv_file_is_named_as_a_directory()
    {
        var error = Assert.Throws<FileNotFoundException>(() => CsvTable.Read(_dir));
        Assert.Contains("is a directory", error.Message);
    }

    [Theory]
    [InlineData("{}", "field 'label' is missing")]
    [InlineData("{\"label\":\"y\",\"task\":\"Regression\",\"classes\":[],\"target_mean\":0,\"target_std\":0,\"features\":[]}", "target_std")]
    [InlineData("{\"label\":\"y\",\"task\":\"Regression\",\"classes\":[],\"target_mean\":0,\"target_std\":1,\"features\":[{\"name\":\"x\",\"numeric\":true,\"mean\":0,\"std\":-2,\"categories\":[]}]}", "std")]
    [InlineData("{\"label\":\"y\",\"task\":\"Sorting\",\"classes\":[],\"target_mean\":0,\"target_std\":1,\"features\":[]}", "Sorting")]
    [InlineData("{\"label\":\"y\",\"task\":\"Classification\",\"classes\":[\"a\"],\"target_mean\":0,\"target_std\":1,\"features\":[]}", "two or more classes")]
    public void Bad_preprocessing_settings_are_invalid_data_naming_the_field(string json, string fragment)
    {
        var error = Assert.Throws<InvalidDataException>(() => TabularPreprocessor.FromJson(JsonNode.Parse(json)!.AsObject(), "m.nabla"));
        Assert.Contains("m.nabla", error.Message);
        Assert.Contains(fragment, error.Message);
    }

    [Fact]
    public void A_classifier_whose_preprocessing_was_relabelled_regression_does_not_load()
    {
        string model = PathOf("c.nabla");
        TabularTrainer.Train(CsvTable.Read(Csv("train.csv", Rows(60))), new TabularOptions("label", Epochs: 1, SavePath: model), TextWriter.Null);
        var (tensors, metadata) = SafeTensors.LoadWithMetadata(model);
        var prep = JsonNode.Parse(metadata["preprocessing"])!.AsObject();
        prep["task"] = "Regression";
        prep["classes"] = new JsonArray();
        metadata["preprocessing"] = prep.ToJsonString();
        SafeTensors.Save(model, tensors, metadata);
        var error = Assert.Throws<InvalidDataException>(() => TabularTrainer.Load(model));
        Assert.Contains("output shape [2]", error.Message);
    }

    [Fact]
    public async Task Many_columns_are_read_and_encoded_in_linear_time()
    {
        // 60 000 columns: looking each feature's column up by a linear search made this quadratic (minutes).
        const int columns = 60_000;
        var header = string.Join(",", Enumerable.Range(0, columns).Select(i => $"c{i}")) + ",label";
        var lines = new List<string> { header };
        for (int r = 0; r < 12; r++) lines.Add(string.Join(",", Enumerable.Range(0, columns).Select(i => ((i + r) % 7).ToString(CultureInfo.InvariantCulture))) + (r % 2 == 0 ? ",a" : ",b"));
        var table = CsvTable.Read(Csv("wide.csv", string.Join("\n", lines)));
        var task = Task.Run(() =>
        {
            var prep = TabularPreprocessor.Fit(table, Enumerable.Range(0, 12).ToArray(), "label");
            return prep.Features(table, Enumerable.Range(0, 12).ToArray());
        });
        Tensor features = await task.WaitAsync(TimeSpan.FromSeconds(60)); // quadratic took minutes
        Assert.Equal([12, columns], features.Shape.ToArray());
    }

    [Fact]
    public void Reading_a_csv_allocates_little_more_than_its_strings()
    {
        // 20 000 rows of 10 fields: the whole-file read, its decoded copy and the per-line strings
        // allocated as much again as the table itself holds.
        var g = new Random(1);
        var lines = new List<string> { string.Join(",", Enumerable.Range(0, 10).Select(i => $"col{i}")) };
        for (int r = 0; r < 20_000; r++) lines.Add(string.Join(",", Enumerable.Range(0, 10).Select(_ => g.NextDouble().ToString("F6", CultureInfo.InvariantCulture))));
        string path = Csv("big.csv", string.Join("\n", lines));
        long size = new FileInfo(path).Length;
        long before = GC.GetAllocatedBytesForCurrentThread();
        var table = CsvTable.Read(path);
        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(20_000, table.Rows.Count);
        // What the table must hold: each row's array and each field's string (object headers included).
        long held = table.Rows.Sum(r => 24L + 8 * r.Length + r.Sum(f => (22L + 2 * f.Length + 7) / 8 * 8));
        Assert.True(bytes < 1.3 * held + (1 << 20), $"reading {size:N0} bytes into {held:N0} bytes of strings allocated {bytes:N0}");
    }

    [Fact]
    public void Csv_line_endings_quotes_and_blank_lines_parse_as_before()
    {
        var table = CsvTable.Parse(new StringReader("a,b\r\n1,\"x\"\"y\"\r\n\r\n  \n2,\"two\r\nlines\"\r3,z"), "t.csv");
        Assert.Equal(["a", "b"], table.Columns);
        Assert.Equal(3, table.Rows.Count);
        Assert.Equal(["1", "x\"y"], table.Rows[0]);
        Assert.Equal(["2", "two\nlines"], table.Rows[1]);
        Assert.Equal(["3", "z"], table.Rows[2]);
        Assert.Equal([2, 5, 7], table.LineNumbers);
        Assert.Contains("line 2", Assert.Throws<InvalidDataException>(() => CsvTable.Parse(new StringReader("a,b\n1,\"open\n"), "t.csv")).Message);
    }

    [Fact]
    public async Task Fit_from_a_second_thread_on_the_same_model_is_refused()
    {
        var model = new Sequential(new Input(2), new Dense(1));
        model.Compile("mse", "sgd");
        Tensor x = Tensor.RandN([64, 2], new Generator(1)), y = Tensor.RandN([64, 1], new Generator(2));
        using var inFit = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var first = Task.Run(() => model.Fit(x, y, epochs: 1, batchSize: 8, verbose: 0, callbacks: [new Gate(inFit, release)]));
        Assert.True(inFit.Wait(TimeSpan.FromSeconds(30)));
        var error = Assert.Throws<InvalidOperationException>(() => model.Fit(x, y, epochs: 1, verbose: 0));
        Assert.Contains("already running on model", error.Message);
        Assert.Throws<InvalidOperationException>(() => model.Evaluate(x, y));
        release.Set();
        await first.WaitAsync(TimeSpan.FromSeconds(30));
        // Once the first Fit is over, the model trains again, and Fit's own validation still runs inside it.
        Assert.Single(model.Fit(x, y, epochs: 1, verbose: 0, validationSplit: 0.25f)["val_loss"]);
    }

    private sealed class Gate(ManualResetEventSlim entered, ManualResetEventSlim release) : Callback
    {
        public override void OnBatchBegin(int batch)
        {
            entered.Set();
            release.Wait(TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public void Predict_on_one_sample_without_a_batch_dimension_says_so()
    {
        var model = new Sequential(new Input(4), new Dense(3));
        var error = Assert.Throws<ArgumentException>(() => model.Predict(Tensor.Ones(4)));
        Assert.Contains("without the batch dimension", error.Message);
        Assert.Throws<ArgumentException>(() => model.Predict(Tensor.Ones(4), batchSize: 2));
        Assert.Equal([1, 3], model.Predict(Tensor.Ones(1, 4)).Shape.ToArray());
    }

    [Fact]
    public void Shape_sizes_do_not_wrap_around()
    {
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(65536, 65536, 65536, 65536));
        Assert.Empty(Tensor.Zeros(65536, 0, 65536, 65536).ToArray());
    }
}

/// <summary>Writes to special files and links go through them; temporary files of killed writers are cleaned up.</summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nabla-atomic").FullName;

    public void Dispose()
    {
        Directory.Delete(_dir, true);
        GC.SuppressFinalize(this);
    }

    [Fact]
    public void A_symbolic_link_stays_a_link_and_its_target_gets_the_new_contents()
    {
        string target = Path.Combine(_dir, "target.txt"), link = Path.Combine(_dir, "link.txt");
        File.WriteAllText(target, "old");
        File.CreateSymbolicLink(link, target);
        AtomicFile.WriteText(link, "new");
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.Equal("new", File.ReadAllText(target));
    }

    [Fact]
    public async Task A_fifo_is_written_through_not_replaced()
    {
        if (OperatingSystem.IsWindows()) return;
        string fifo = Path.Combine(_dir, "pipe");
        using (var mkfifo = Process.Start("mkfifo", fifo)) mkfifo.WaitForExit();
        var reader = Task.Run(() => File.ReadAllText(fifo));
        AtomicFile.WriteText(fifo, "through the pipe");
        Assert.Equal("through the pipe", await reader.WaitAsync(TimeSpan.FromSeconds(30)));
        // Still a FIFO: a regular file put in its place would read back at once without a writer.
        Assert.Equal(0, RunStatType(fifo, out string type));
        Assert.Equal("fifo", type);
    }

    private static int RunStatType(string path, out string type)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%F", path]) { RedirectStandardOutput = true })!;
        type = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return stat.ExitCode;
    }

    [Fact]
    public async Task A_link_to_a_pipe_as_dev_stdout_is_written_through()
    {
        if (!OperatingSystem.IsLinux()) return;
        // /dev/stdout -> /proc/self/fd/1 -> pipe:[...] when output is piped: the same chain, to a pipe of our own.
        using var pipe = new System.IO.Pipes.AnonymousPipeServerStream(System.IO.Pipes.PipeDirection.In, HandleInheritability.None);
        string link = Path.Combine(_dir, "stdout");
        File.CreateSymbolicLink(link, $"/proc/self/fd/{pipe.ClientSafePipeHandle.DangerousGetHandle()}");
        var reader = Task.Run(() => new StreamReader(pipe).ReadLine());
        AtomicFile.WriteText(link, "through the pipe\n");
        pipe.DisposeLocalCopyOfClientHandle();
        Assert.Equal("through the pipe", await reader.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.NotNull(new FileInfo(link).LinkTarget);
    }

    [Fact]
    public void A_directory_is_not_a_file_to_write()
    {
        Assert.Contains("is a directory", Assert.Throws<IOException>(() => AtomicFile.WriteText(_dir, "x")).Message);
        Assert.Contains("--save", Assert.Throws<IOException>(() => AtomicFile.CheckWritable(_dir, "--save")).Message);
        string file = Path.Combine(_dir, "plain");
        File.WriteAllText(file, "x");
        Assert.Throws<IOException>(() => AtomicFile.CheckWritable(Path.Combine(file, "under-a-file.csv"), "--out"));
        AtomicFile.CheckWritable(Path.Combine(_dir, "new", "folder", "ok.nabla"), "--save");
    }

    [Fact]
    public void Temporary_files_of_a_killed_writer_are_removed_by_the_next_write()
    {
        string path = Path.Combine(_dir, "model.nabla");
        // A pid that cannot be running: above the kernel's limit.
        string stale = path + ".4194305.0badf00d.tmp", alive = path + $".{Environment.ProcessId}.12345678.tmp", other = Path.Combine(_dir, "unrelated.tmp");
        foreach (string f in new[] { stale, alive, other }) File.WriteAllText(f, "partial");
        AtomicFile.WriteText(path, "complete");
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(alive));
        Assert.True(File.Exists(other));
        Assert.Equal("complete", File.ReadAllText(path));
    }
}
