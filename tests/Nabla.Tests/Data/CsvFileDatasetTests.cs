using Nabla.Data;

namespace Nabla.Tests.Data;

public class CsvFileDatasetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nabla-csvds").FullName;

    public void Dispose()
    {
        Directory.Delete(_dir, true);
        GC.SuppressFinalize(this);
    }

    private string Write(string text)
    {
        string path = Path.Combine(_dir, $"t{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Reads_the_rows_asked_for_and_matches_the_in_memory_table()
    {
        var rows = Enumerable.Range(0, 500).Select(i => $"{i * 0.5},\"{i % 7}\",{-i},{i % 2}").ToList();
        string path = Write("a,b,c,label\r\n" + string.Join("\r\n", rows.Take(250)) + "\r\n\r\n" + string.Join("\n", rows.Skip(250)));
        using var ds = new CsvFileDataset(path, ["label"], ["c", "a"]);
        Assert.Equal(500, ds.Count);
        Assert.Equal(2, ds.FeatureCount);
        var (x, y) = ds.Batch([0, 249, 250, 499]);
        Assert.Equal([0f, 0f, -249f, 124.5f, -250f, 125f, -499f, 249.5f], x.ToArray());
        Assert.Equal([0f, 1f, 0f, 1f], y.ToArray());
        // Through a DataLoader with prefetch, every row comes back once.
        var seen = new List<float>();
        foreach (var (bx, _) in new DataLoader(ds, 64, shuffle: true, seed: 3)) seen.AddRange(bx.ToArray().Where((_, i) => i % 2 == 0));
        Assert.Equal(Enumerable.Range(0, 500).Select(i => (float)-i).Order(), seen.Order());
    }

    [Fact]
    public void Bad_values_and_columns_are_named_by_line_and_column()
    {
        string path = Write("a,label\n1,0\n\nx,1\n2,1,5\n");
        using var ds = new CsvFileDataset(path, ["label"]);
        Assert.Equal(3, ds.Count);
        Assert.Contains("line 4, column 'a': 'x' is not a number", Assert.Throws<InvalidDataException>(() => ds.Batch([1])).Message);
        Assert.Contains("line 5: 3 fields, but the header has 2 columns", Assert.Throws<InvalidDataException>(() => ds.Batch([2])).Message);
        Assert.Contains("no column 'target'", Assert.Throws<ArgumentException>(() => new CsvFileDataset(path, ["target"])).Message);
        Assert.Contains("the file is empty", Assert.Throws<InvalidDataException>(() => new CsvFileDataset(Write("\n \n"), ["a"])).Message);
    }
}
