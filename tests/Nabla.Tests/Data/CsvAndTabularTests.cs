using System.Globalization;
using Nabla.Data;
using Nabla.Tabular;
using Nabla.Training;

namespace Nabla.Tests.Data;

public class CsvAndTabularTests
{
    private static CsvTable Parse(string text) => CsvTable.Parse(new StringReader(text), "test.csv");

    [Fact]
    public void Csv_handles_quotes_embedded_commas_and_line_breaks()
    {
        var t = Parse("name,note,value\n\"Smith, J\",\"said \"\"hi\"\"\",1.5\nplain,\"two\nlines\",-2\n\n");
        Assert.Equal(["name", "note", "value"], t.Columns);
        Assert.Equal(2, t.Rows.Count);
        Assert.Equal("Smith, J", t.Rows[0][0]);
        Assert.Equal("said \"hi\"", t.Rows[0][1]);
        Assert.Equal("two\nlines", t.Rows[1][1]);
        Assert.Equal([2, 3], t.LineNumbers);
        Assert.True(t.IsNumeric(2));
        Assert.False(t.IsNumeric(0));
    }

    [Fact]
    public void Csv_file_that_is_not_utf8_is_an_error_naming_line_and_byte()
    {
        string path = Path.Combine(Path.GetTempPath(), $"nabla-latin1-{Guid.NewGuid():N}.csv");
        try
        {
            // "café" written in Latin-1 on the third line: 0xE9 is not UTF-8 on its own.
            File.WriteAllBytes(path, [.. "a,b\n1,2\ncaf"u8, 0xE9, .. ",3\n"u8]);
            var e = Assert.Throws<InvalidDataException>(() => CsvTable.Read(path));
            Assert.Contains($"{path}: line 3, byte 4: not valid UTF-8 (0xE9)", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Csv_errors_name_the_line_and_column()
    {
        Assert.Contains("line 3: 1 fields", Assert.Throws<InvalidDataException>(() => Parse("a,b\n1,2\n3\n")).Message);
        Assert.Contains("column 'a' twice", Assert.Throws<InvalidDataException>(() => Parse("a,a\n1,2\n")).Message);
        Assert.Contains("never closed", Assert.Throws<InvalidDataException>(() => Parse("a,b\n\"1,2\n")).Message);
        Assert.Contains("empty", Assert.Throws<InvalidDataException>(() => Parse("")).Message);
        var missing = Parse("a,b,c\n1,,3\n4,NA,6\n7,8,?\n");
        var ex = Assert.Throws<InvalidDataException>(() => missing.RequireComplete());
        Assert.Contains("3 missing", ex.Message);
        Assert.Contains("line 2 column 'b'", ex.Message);
        Assert.Contains("line 4 column 'c'", ex.Message);
        Assert.Contains("Columns: a, b, c", Assert.Throws<ArgumentException>(() => missing.ColumnIndex("d")).Message);
    }

    private static CsvTable Synthetic(int rows, ulong seed)
    {
        var g = new Generator(seed);
        var lines = new List<string> { "x1,x2,color,label,target" };
        string[] colors = ["red", "green", "blue"];
        for (int i = 0; i < rows; i++)
        {
            double x1 = g.NextNormal(), x2 = g.NextNormal();
            string c = colors[g.NextInt(3)];
            string label = (x1 + x2 > 0) != (c == "red") ? "yes" : "no";
            double target = 3 * x1 - 2 * x2 + (c == "green" ? 5 : 0) + 0.1 * g.NextNormal();
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{x1:F4},{x2:F4},{c},{label},{target:F4}"));
        }
        return Parse(string.Join("\n", lines));
    }

    [Fact]
    public void Tabular_classification_learns_an_interaction_with_a_categorical_column()
    {
        var table = Synthetic(500, 3);
        var result = TabularTrainer.Train(table, new TabularOptions("label", Epochs: 60), TextWriter.Null);
        Assert.True(result["test_accuracy"] >= 0.9, string.Join(", ", result.Metrics));
    }

    [Fact]
    public void Tabular_regression_reports_errors_in_the_targets_units_and_saves_its_preprocessing()
    {
        var table = Synthetic(500, 4);
        string path = Path.Combine(Path.GetTempPath(), $"nabla-tab-{Guid.NewGuid():N}.nabla");
        try
        {
            var result = TabularTrainer.Train(table, new TabularOptions("target", Epochs: 80, SavePath: path), TextWriter.Null);
            // Target standard deviation is about 4; a good fit errs by a few tenths.
            Assert.True(result["test_rmse"] < 0.6 && result["test_mae"] < result["test_rmse"] + 1e-9, string.Join(", ", result.Metrics));
            var (_, metadata) = Nabla.IO.SafeTensors.LoadWithMetadata(path);
            var prep = TabularPreprocessor.FromJson((System.Text.Json.Nodes.JsonObject)System.Text.Json.Nodes.JsonNode.Parse(metadata["preprocessing"])!);
            Assert.Equal(TabularTask.Regression, prep.Task);
            Assert.Equal(2 + 3 + 2, prep.FeatureCount); // x1 and x2, three colours one-hot, the yes/no column one-hot
            var model = Sequential.Load(path);
            Assert.Equal(prep.FeatureCount, model.Layers[0].BuiltInputShape[0]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_saved_tabular_model_predicts_new_rows_with_its_own_preprocessing()
    {
        var table = Synthetic(500, 5);
        string path = Path.Combine(Path.GetTempPath(), $"nabla-tab-{Guid.NewGuid():N}.nabla");
        try
        {
            TabularTrainer.Train(table, new TabularOptions("label", Epochs: 60, SavePath: path), TextWriter.Null);
            var fresh = Synthetic(200, 6);
            var (predictions, confidence) = TabularTrainer.Predict(TabularTrainer.Load(path), fresh);
            int label = fresh.ColumnIndex("label");
            double accuracy = predictions.Select((p, i) => p == fresh.Rows[i][label] ? 1.0 : 0.0).Average();
            Assert.True(accuracy >= 0.9, $"accuracy {accuracy}");
            Assert.All(confidence, c => Assert.InRange(c, 0.5f, 1f));
            var noX1 = Parse("x2,color,label,target\n0.5,red,yes,1\n");
            Assert.Contains("no column 'x1'", Assert.Throws<ArgumentException>(() => TabularTrainer.Predict(TabularTrainer.Load(path), noX1)).Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Preprocessing_is_fitted_on_training_rows_only()
    {
        var table = Parse("x,c,y\n0,a,0\n2,a,1\n100,b,0\n");
        var prep = TabularPreprocessor.Fit(table, [0, 1], "y", TabularTask.Classification);
        Tensor x = prep.Features(table, [0, 1, 2]);
        // x is standardised with the mean 1 and std 1 of the first two rows; category b was never seen: all zeros.
        Assert.Equal([-1f, 1f, 1f, 1f, 99f, 0f], x.ToArray());
    }
}
