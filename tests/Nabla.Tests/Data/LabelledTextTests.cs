using System.Text;
using Nabla.Data;

namespace Nabla.Tests.Data;

public class LabelledTextTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nabla-text").FullName;

    public void Dispose()
    {
        Directory.Delete(_dir, true);
        GC.SuppressFinalize(this);
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Write(string name, string text) => Write(name, Encoding.UTF8.GetBytes(text));

    [Fact]
    public void Reads_text_and_label_with_blank_lines_counted()
    {
        string path = Write("a.txt", "Good\tphone.\t1\r\n\nBad one  \t0\n   \nnaïve café\t1");
        var corpus = LabelledText.Read(path);
        Assert.Equal(["Good\tphone.", "Bad one  ", "naïve café"], corpus.Texts);
        Assert.Equal(["1", "0", "1"], corpus.Labels);
        Assert.Equal(2, corpus.BlankLines);
        Assert.Equal(["0", "1"], corpus.Classes);
        Assert.Equal([1f, 0f, 1f], corpus.ClassIndices());
    }

    [Fact]
    public void Label_first_splits_at_the_first_separator()
    {
        string path = Write("sms.txt", "ham\tsee you\tlater\nspam\tWIN now\n");
        var corpus = LabelledText.Read(path, LabelPosition.First);
        Assert.Equal(["see you\tlater", "WIN now"], corpus.Texts);
        Assert.Equal(["ham", "spam"], corpus.Classes);
    }

    [Fact]
    public void Several_files_pool_in_order()
    {
        var corpus = LabelledText.ReadAll([Write("1.txt", "x\t1\n"), Write("2.txt", "y\t0\nz\t1\n")]);
        Assert.Equal(["x", "y", "z"], corpus.Texts);
    }

    [Fact]
    public void Invalid_utf8_is_named_by_file_line_and_byte()
    {
        byte[] bytes = [.. Encoding.UTF8.GetBytes("fine\t1\nab"), 0xE9, .. Encoding.UTF8.GetBytes("t\t0\n")];
        string path = Write("latin1.txt", bytes);
        var e = Assert.Throws<InvalidDataException>(() => LabelledText.Read(path));
        Assert.Contains($"{path}: line 2, byte 3: not valid UTF-8 (0xE9)", e.Message);
    }

    [Fact]
    public void Missing_separator_empty_label_and_empty_file_are_errors_by_line()
    {
        string noTab = Write("notab.txt", "ok\t1\nno label here\n");
        Assert.Contains("line 2: no tab between text and label", Assert.Throws<InvalidDataException>(() => LabelledText.Read(noTab)).Message);
        string emptyLabel = Write("empty-label.txt", "ok\t1\nhello\t \n");
        Assert.Contains("line 2, column 7: the label is empty", Assert.Throws<InvalidDataException>(() => LabelledText.Read(emptyLabel)).Message);
        string empty = Write("empty.txt", "");
        Assert.Contains("the file is empty", Assert.Throws<InvalidDataException>(() => LabelledText.Read(empty)).Message);
        string blank = Write("blank.txt", "\n\n");
        Assert.Contains("no labelled lines", Assert.Throws<InvalidDataException>(() => LabelledText.Read(blank)).Message);
        Assert.Throws<FileNotFoundException>(() => LabelledText.Read(Path.Combine(_dir, "missing.txt")));
    }
}
