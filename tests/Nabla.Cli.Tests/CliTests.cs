using System.Globalization;
using Nabla.Cli;
using SkiaSharp;

namespace Nabla.Cli.Tests;

/// <summary>Runs the <c>nabla</c> command in process; the console is captured, so these tests run one at a time.</summary>
[Collection("console")]
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nabla-cli").FullName;

    public void Dispose()
    {
        Directory.Delete(_dir, true);
        GC.SuppressFinalize(this);
    }

    private static (int Code, string Out, string Error) Run(params string[] args)
    {
        TextWriter stdout = Console.Out, stderr = Console.Error;
        var o = new StringWriter();
        var e = new StringWriter();
        Console.SetOut(o);
        Console.SetError(e);
        try
        {
            int code = Program.Main(args);
            return (code, o.ToString(), e.ToString());
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
        }
    }

    /// <summary>Two noisy Gaussian blobs per class in two dimensions, three classes, plus a categorical column.</summary>
    private string Table(int rows = 300)
    {
        var g = new Random(7);
        var lines = new List<string> { "x,y,shade,label" };
        for (int i = 0; i < rows; i++)
        {
            int c = i % 3;
            double x = c + 0.3 * (g.NextDouble() - 0.5), y = (c == 1 ? 1 : 0) + 0.3 * (g.NextDouble() - 0.5);
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{x:F3},{y:F3},{(g.Next(2) == 0 ? "dark" : "light")},{new[] { "cat", "dog", "fox" }[c]}"));
        }
        string path = Path.Combine(_dir, "animals.csv");
        File.WriteAllLines(path, lines);
        return path;
    }

    private static SKBitmap Png(byte[] bytes)
    {
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        return SKBitmap.Decode(bytes) ?? throw new InvalidDataException("not a PNG SkiaSharp can read");
    }

    /// <summary>How many distinct colours a picture uses (a blank or one-colour image has one or two).</summary>
    private static int Colours(SKBitmap image)
    {
        var seen = new HashSet<uint>();
        for (int y = 0; y < image.Height; y += 3)
        {
            for (int x = 0; x < image.Width; x += 3) seen.Add((uint)image.GetPixel(x, y));
        }
        return seen.Count;
    }

    [Fact]
    public void Train_writes_curves_confusion_matrix_and_a_self_contained_report()
    {
        string csv = Table();
        string plots = Path.Combine(_dir, "plots"), report = Path.Combine(_dir, "report.html");
        var (code, stdout, stderr) = Run("train", "--csv", csv, "--label", "label", "--epochs", "30", "--plots", plots, "--report", report, "--json");
        Assert.True(code == 0, stderr);
        using var json = System.Text.Json.JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        Assert.True(json.RootElement.GetProperty("test_accuracy").GetDouble() >= 0.95, stdout);

        using var curves = Png(File.ReadAllBytes(Path.Combine(plots, "curves.png")));
        Assert.Equal(900, curves.Width);
        Assert.Equal(2 * 320, curves.Height); // a panel for the loss and one for accuracy
        Assert.True(Colours(curves) > 20, "the curves picture is nearly blank");
        using var confusion = Png(File.ReadAllBytes(Path.Combine(plots, "confusion.png")));
        Assert.True(Colours(confusion) > 20, "the confusion picture is nearly blank");
        // The diagonal cells hold most rows, so they are shaded: the centre of the top-left cell is darker than the top-right one.
        SKColor diagonal = confusion.GetPixel(confusion.Width / 4, confusion.Height / 4 + 10), off = confusion.GetPixel(confusion.Width * 3 / 4 + 40, confusion.Height / 4 + 10);
        Assert.True(diagonal.Red < off.Red, $"diagonal {diagonal} should be darker than {off}");

        string html = File.ReadAllText(report);
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Equal(2, html.Split("src=\"data:image/png;base64,").Length - 1);
        Assert.Contains("<table id=\"metrics\">", html);
        Assert.Contains("test_accuracy", html);
        Assert.Contains("<table id=\"model\">", html);
        Assert.Contains("train_test_split(random_state=42, stratify=label)", html);
        Assert.DoesNotContain("http", html); // nothing fetched when the page is opened
    }

    [Fact]
    public void Train_reads_a_json_model_description()
    {
        string model = Path.Combine(_dir, "model.json");
        File.WriteAllText(model, """{ "layers": [ { "type": "Dense", "units": 16, "activation": "relu", "kernel_initializer": "he_uniform" }, { "type": "Dropout", "rate": 0.1 } ] }""");
        string saved = Path.Combine(_dir, "m.nabla");
        var (code, _, stderr) = Run("train", "--csv", Table(), "--label", "label", "--model", model, "--epochs", "5", "--save", saved, "--json");
        Assert.True(code == 0, stderr);
        var loaded = Sequential.Load(saved);
        Assert.Equal(["InputLayer", "Dense", "Dropout", "Dense"], loaded.Layers.Select(l => l.TypeName));
        Assert.Equal(16, ((Nabla.Layers.Dense)loaded.Layers[1]).Units);
    }

    [Theory]
    [InlineData("""{ "layers": [ { "type": "Dense", "unit": 16 } ] }""", "layer 1 (Dense): unknown argument 'unit'")]
    [InlineData("""{ "layers": [ { "type": "Dance", "units": 16 } ] }""", "layer 1 (Dance): unknown layer type")]
    [InlineData("""{ "layers": [ { "type": "Dense", "units": 8 }, { "type": "Dropout", "rate": 1.5 } ] }""", "layer 2 (Dropout): ")]
    [InlineData("""{ "layers": [ { "type": "Dense" } ] }""", "layer 1 (Dense): missing argument 'units'")]
    [InlineData("{ \"layers\": [ { \"type\": \"Dense\", \n \"units\": 16,, } ] }", "line 2, position")]
    public void A_bad_json_model_is_one_line_naming_the_problem(string json, string expected)
    {
        string model = Path.Combine(_dir, "bad.json");
        File.WriteAllText(model, json);
        var (code, stdout, stderr) = Run("train", "--csv", Table(), "--label", "label", "--model", model);
        Assert.Equal(1, code);
        Assert.Contains(expected, stderr);
        Assert.StartsWith("nabla: " + model, stderr);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Equal("", stdout);
    }

    [Fact]
    public void User_mistakes_are_one_line_with_a_non_zero_exit_and_verbose_adds_the_trace()
    {
        string csv = Table();
        foreach (var (args, expected) in new (string[], string)[]
        {
            (["train", "--csv", csv, "--label", "label", "--epoch", "3"], "--epoch"),
            (["train", "--csv", Path.Combine(_dir, "missing.csv"), "--label", "label"], "missing.csv"),
            (["train", "--csv", csv, "--label", "species"], "no column 'species'"),
            (["frobnicate"], "unknown command 'frobnicate'"),
        })
        {
            var (code, _, stderr) = Run(args);
            Assert.NotEqual(0, code);
            Assert.Contains(expected, stderr);
            Assert.Single(stderr.Trim().Split('\n'));
        }
        var (_, _, verbose) = Run("train", "--csv", csv, "--label", "species", "--verbose");
        Assert.Contains("   at ", verbose);
    }

    /// <summary>A model saved by train, with its metadata changed by <paramref name="edit"/>.</summary>
    private string SavedModel(string name, Action<Dictionary<string, string>>? edit = null)
    {
        string path = Path.Combine(_dir, name);
        var (code, _, stderr) = Run("train", "--csv", Table(90), "--label", "label", "--epochs", "2", "--save", path, "--json");
        Assert.True(code == 0, stderr);
        if (edit is null) return path;
        var (tensors, metadata) = Nabla.IO.SafeTensors.LoadWithMetadata(path);
        edit(metadata);
        Nabla.IO.SafeTensors.Save(path, tensors, metadata);
        return path;
    }

    private string WriteFile(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Every_command_answers_hostile_input_with_one_clean_line_and_no_stack_trace()
    {
        string csv = Table(), model = SavedModel("good.nabla");
        string aFile = WriteFile("plain.txt", "not a folder");
        string garbage = WriteFile("garbage.nabla", "\u0001\u0002 this is not a model file at all, just some bytes");
        string noFeatures = WriteFile("label-only.csv", "label\n" + string.Join("\n", Enumerable.Range(0, 30).Select(i => i % 2 == 0 ? "a" : "b")) + "\n");
        string typo = WriteFile("typo.csv", "x,y,shade,label\n" + string.Join("\n", Enumerable.Range(0, 40).Select(i => $"{(i == 9 ? "abc" : i.ToString(CultureInfo.InvariantCulture))},{i % 3},dark,{(i % 2 == 0 ? "cat" : "dog")}")) + "\n");
        string infinite = WriteFile("inf.csv", "x,y,shade,label\n0.5,0.5,dark,cat\nInfinity,0.2,light,dog\n");
        string badJson = SavedModel("bad-json.nabla", m => m["preprocessing"] = "{\"label\": ");
        string emptyPrep = SavedModel("empty-prep.nabla", m => m["preprocessing"] = "{}");
        string badCompile = SavedModel("bad-compile.nabla", m => m["compile"] = "{\"loss\": [");
        string relabelled = SavedModel("relabelled.nabla", m =>
        {
            var p = System.Text.Json.Nodes.JsonNode.Parse(m["preprocessing"])!.AsObject();
            p["task"] = "Regression";
            p["classes"] = new System.Text.Json.Nodes.JsonArray();
            m["preprocessing"] = p.ToJsonString();
        });
        string hugeInput = SavedModel("huge-input.nabla", m => m["architecture"] = m["architecture"].Replace("\"input_shape\":[4]", "\"input_shape\":[2147483647]"));
        string hugeUnits = SavedModel("huge-units.nabla", m => m["architecture"] = m["architecture"].Replace("\"units\":64", "\"units\":300000000"));
        string escape = SavedModel("escape.nabla", m => m["architecture"] = m["architecture"].Replace("\"name\":\"dense\"", "\"name\":\"\\u001b]0;pwned\\u0007\""));
        foreach (var (args, expected) in new (string[], string)[]
        {
            (["train", "--csv", _dir, "--label", "label"], "is a directory"),
            (["train", "--csv", csv, "--label", "label", "--epochs", "0"], "--epochs"),
            (["train", "--csv", csv, "--label", "label", "--batch-size", "0"], "--batch-size"),
            (["train", "--csv", csv, "--label", "label", "--lr", "nan"], "--lr"),
            (["train", "--csv", csv, "--label", "label", "--lr", "-1"], "--lr"),
            (["train", "--csv", csv, "--label", "label", "--layers", "1,2,,3"], "--layers"),
            (["train", "--csv", csv, "--label", "label", "--test", "1.5"], "--test"),
            (["train", "--csv", csv, "--label", "label", "--validation", "NaN"], "--validation"),
            (["train", "--csv", csv, "--label", "label", "--optimizer", "adamm"], "adamm"),
            // Output places are checked before the data is read: the CSV here does not even exist.
            (["train", "--csv", "missing.csv", "--label", "label", "--save", Path.Combine(aFile, "m.nabla")], "--save"),
            (["train", "--csv", "missing.csv", "--label", "label", "--plots", aFile], "--plots"),
            (["train", "--csv", "missing.csv", "--label", "label", "--report", _dir], "--report"),
            (["train", "--csv", noFeatures, "--label", "label"], "no feature columns"),
            (["train", "--csv", typo, "--label", "label"], "line 11 column 'x': 'abc' is not a number"),
            (["predict", "--model", garbage, "--csv", csv], "garbage.nabla"),
            (["predict", "--model", _dir, "--csv", csv], "nabla"),
            (["predict", "--model", badJson, "--csv", csv], "not valid JSON"),
            (["predict", "--model", emptyPrep, "--csv", csv], "preprocessing cannot be read"),
            (["predict", "--model", badCompile, "--csv", csv], "compile"),
            (["predict", "--model", relabelled, "--csv", csv], "output shape"),
            (["predict", "--model", model, "--csv", infinite], "line 3"),
            (["predict", "--model", model, "--csv", csv, "--out", _dir], "--out"),
            (["evaluate", "--model", model, "--csv", infinite, "--json"], "line 3"),
            (["summary", "--model", hugeInput], "input_shape"),
            (["summary", "--model", hugeUnits], "more weights than the file holds"),
            (["summary", "--model", escape], "control character"),
            (["export", "--model", model, "--onnx", _dir], "--onnx"),
            (["export", "--model", garbage, "--onnx", Path.Combine(_dir, "x.onnx")], "garbage.nabla"),
        })
        {
            var (code, stdout, stderr) = Run(args);
            string what = string.Join(' ', args);
            Assert.True(code == 1, $"{what}: exit {code}, {stderr}");
            Assert.Contains(expected, stderr);
            Assert.Single(stderr.Trim().Split('\n'));
            Assert.StartsWith("nabla: ", stderr);
            Assert.DoesNotContain("   at ", stderr);
            Assert.DoesNotContain("NaN", stdout);
            Assert.False(stderr.Trim().Any(char.IsControl), $"{what}: a control character reached the terminal");
        }
    }

    [Fact]
    public void The_confusion_matrix_is_drawn_only_when_asked_for_and_summarised_above_fifty_classes()
    {
        // 60 classes: a Gaussian blob each on a line.
        var g = new Random(2);
        var lines = new List<string> { "x,y,label" };
        for (int i = 0; i < 600; i++)
        {
            int c = i % 60;
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{c + 0.1 * g.NextDouble():F3},{g.NextDouble():F3},k{c}"));
        }
        string csv = WriteFile("many.csv", string.Join("\n", lines));
        var (code, _, stderr) = Run("train", "--csv", csv, "--label", "label", "--epochs", "1", "--json", "--validation", "0");
        Assert.True(code == 0, stderr);
        Assert.DoesNotContain("confusion", stderr);
        string plots = Path.Combine(_dir, "plots");
        (code, _, stderr) = Run("train", "--csv", csv, "--label", "label", "--epochs", "1", "--json", "--validation", "0", "--plots", plots);
        Assert.True(code == 0, stderr);
        Assert.Contains("the 50 classes with the most test rows of 60", stderr);
        using var confusion = Png(System.IO.File.ReadAllBytes(Path.Combine(plots, "confusion.png")));
        Assert.True(Colours(confusion) > 2);
    }

    [Fact]
    public void Export_of_a_trained_table_model_says_it_includes_the_preprocessing()
    {
        string model = SavedModel("t.nabla"), onnx = Path.Combine(_dir, "t.onnx");
        var (code, stdout, stderr) = Run("export", "--model", model, "--onnx", onnx);
        Assert.True(code == 0, stderr);
        Assert.Contains("x float, y float, shade string", stdout);
        Assert.True(new FileInfo(onnx).Length > 0);
    }

    [Fact]
    public void Summary_and_export_take_a_functional_model_file()
    {
        var a = new Nabla.Layers.Input("left", 3);
        var b = new Nabla.Layers.Input("right", 3);
        var shared = new Nabla.Layers.Dense(4, "relu", name: "shared");
        var model = new Model([a, b], [new Nabla.Layers.Dense(1, name: "out").Apply(new Nabla.Layers.Add().Apply(shared.Apply(a), shared.Apply(b)))], "siamese");
        model.Compile("mse", "adam");
        string path = Path.Combine(_dir, "f.nabla"), onnx = Path.Combine(_dir, "f.onnx");
        model.Save(path);
        var (code, stdout, stderr) = Run("summary", "--model", path);
        Assert.True(code == 0, stderr);
        Assert.Contains("Connected to", stdout);
        Assert.Contains("shared[0][0], shared[1][0]", stdout);
        Assert.Contains("Compiled with loss mse", stdout);
        (code, stdout, stderr) = Run("export", "--model", path, "--onnx", onnx);
        Assert.True(code == 0, stderr);
        Assert.True(new FileInfo(onnx).Length > 0);
    }

    [Fact]
    public void Import_reads_an_onnx_model_that_summary_predict_and_evaluate_take()
    {
        var model = new Sequential(new Nabla.Layers.Input(3), new Nabla.Layers.Dense(4, "tanh"), new Nabla.Layers.Dense(2));
        string onnx = Path.Combine(_dir, "m.onnx"), imported = Path.Combine(_dir, "m.nabla"), csv = Path.Combine(_dir, "rows.csv");
        Nabla.IO.OnnxExport.Save(model, onnx);
        var (code, stdout, stderr) = Run("import", onnx, "--out", imported);
        Assert.True(code == 0, stderr);
        Assert.Contains("imported", stdout);
        (code, stdout, stderr) = Run("summary", imported);
        Assert.True(code == 0, stderr);
        Assert.Contains("OnnxGraph", stdout);
        File.WriteAllLines(csv, ["a,b,name,c,label", "0.5,-1,x,2,1", "1,0.25,y,-0.5,0"]);
        (code, stdout, stderr) = Run("predict", "--model", imported, "--csv", csv);
        Assert.True(code == 1, "the label column is numeric, so four columns meet a model of three inputs");
        Assert.Contains("4 numeric column(s)", stderr);
        File.WriteAllLines(csv, ["a,b,name,c", "0.5,-1,x,2", "1,0.25,y,-0.5"]);
        (code, stdout, stderr) = Run("predict", "--model", imported, "--csv", csv);
        Assert.True(code == 0, stderr);
        string[] lines = stdout.Trim().Split('\n');
        Assert.Equal("a,b,name,c,output_0,output_1", lines[0]);
        float[] expected = model.Predict(Tensor.FromArray([0.5f, -1f, 2f, 1f, 0.25f, -0.5f], 2, 3)).ToArray();
        Assert.Equal(expected[0], float.Parse(lines[1].Split(',')[4], CultureInfo.InvariantCulture));
        Assert.Equal(expected[3], float.Parse(lines[2].Split(',')[5], CultureInfo.InvariantCulture));
        File.WriteAllLines(csv, ["a,b,c,y", "0.5,-1,2,1", "1,0.25,-0.5,0"]);
        (code, stdout, stderr) = Run("evaluate", "--model", imported, "--csv", csv, "--label", "y", "--json");
        Assert.True(code == 0, stderr);
        Assert.Contains("\"accuracy\":", stdout);
    }

    [Fact]
    public void Train_learns_a_folder_of_images()
    {
        // Two classes any network tells apart: bright top half, or bright bottom half; some noise.
        var g = new Random(3);
        string root = Path.Combine(_dir, "shapes");
        foreach (string cls in new[] { "bottom", "top" })
        {
            Directory.CreateDirectory(Path.Combine(root, cls));
            for (int i = 0; i < 60; i++)
            {
                using var bitmap = new SKBitmap(12, 12);
                for (int y = 0; y < 12; y++)
                {
                    for (int x = 0; x < 12; x++)
                    {
                        bool lit = cls == "top" ? y < 6 : y >= 6;
                        byte v = (byte)Math.Clamp((lit ? 200 : 40) + g.Next(-30, 30), 0, 255);
                        bitmap.SetPixel(x, y, new SKColor(v, v, v));
                    }
                }
                using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(Path.Combine(root, cls, $"{i}.png"), data.ToArray());
            }
        }
        string saved = Path.Combine(_dir, "shapes.nabla");
        var (code, stdout, stderr) = Run("train", "--images", root, "--epochs", "5", "--batch-size", "16", "--augment", "--save", saved, "--json");
        Assert.True(code == 0, stderr);
        Assert.Contains("2 classes", stderr);
        Assert.Contains("of 1x12x12", stderr);
        var json = System.Text.Json.JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
        Assert.True(json.GetProperty("test_accuracy").GetDouble() >= 0.9, stdout);
        Assert.True(File.Exists(saved));
        (code, _, stderr) = Run("train", "--images", Path.Combine(_dir, "missing"), "--json");
        Assert.Equal(1, code);
        Assert.Contains("does not exist", stderr);
    }

    [Fact]
    public void Train_learns_a_folder_of_clips_and_predict_labels_a_wav()
    {
        // Two labels any network tells apart: a low hum or a high whistle, at varying pitch, with noise.
        var g = new Random(4);
        string root = Path.Combine(_dir, "sounds");
        foreach (var (label, hz) in new[] { ("high", 2400.0), ("low", 300.0) })
        {
            Directory.CreateDirectory(Path.Combine(root, label));
            for (int i = 0; i < 40; i++)
            {
                double f = hz * (0.85 + 0.3 * g.NextDouble());
                var samples = new float[8000];
                for (int t = 0; t < samples.Length; t++) samples[t] = (float)(0.4 * Math.Sin(2 * Math.PI * f * t / 16000) + 0.05 * (g.NextDouble() - 0.5));
                Nabla.Data.Wav.Write(Path.Combine(root, label, $"{i}.wav"), samples, 16000);
            }
        }
        string saved = Path.Combine(_dir, "sounds.nabla");
        var (code, stdout, stderr) = Run("train", "--audio", root, "--seconds", "0.5", "--epochs", "4", "--batch-size", "16", "--save", saved, "--json");
        Assert.True(code == 0, stderr);
        Assert.Contains("2 labels (high, low)", stderr);
        var json = System.Text.Json.JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
        Assert.True(json.GetProperty("test_accuracy").GetDouble() >= 0.9, stdout);
        (code, stdout, stderr) = Run("predict", "--model", saved, "--wav", Path.Combine(root, "low", "3.wav"));
        Assert.True(code == 0, stderr);
        Assert.Contains("3.wav,low,", stdout);
        (code, _, stderr) = Run("predict", "--model", saved, "--wav", Path.Combine(_dir, "none.wav"));
        Assert.Equal(1, code);
        Assert.Contains("does not exist", stderr);
    }

    [Fact]
    public void Tune_searches_within_its_budget_and_writes_the_best_for_train_model()
    {
        string csv = Table(), best = Path.Combine(_dir, "best.json"), report = Path.Combine(_dir, "tune.html"), saved = Path.Combine(_dir, "tuned.nabla");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (code, stdout, stderr) = Run("train", "--csv", csv, "--label", "label", "--tune", "--budget", "3s", "--folds", "3", "--ensemble", "1", "--best", best, "--save", saved, "--report", report, "--json");
        Assert.True(code == 0, stderr);
        Assert.True(clock.Elapsed.TotalSeconds < 3 * 1.05 + 3, $"took {clock.Elapsed.TotalSeconds:F1} s");
        var json = System.Text.Json.JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
        Assert.True(json.GetProperty("test_accuracy").GetDouble() >= 0.9, stdout);
        Assert.True(json.GetProperty("trials").GetDouble() >= 5, stdout);
        Assert.Contains("id=\"leaderboard\"", File.ReadAllText(report));
        // The description trains the same final model again.
        (code, string again, stderr) = Run("train", "--csv", csv, "--label", "label", "--model", best, "--json");
        Assert.True(code == 0, stderr);
        var second = System.Text.Json.JsonDocument.Parse(again.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal(json.GetProperty("test_loss").GetDouble(), second.GetProperty("test_loss").GetDouble());
        (code, _, stderr) = Run("train", "--csv", csv, "--label", "label", "--tune", "--budget", "soon");
        Assert.Equal(1, code);
        Assert.Contains("--budget should be a time like 60s", stderr);
    }
}
