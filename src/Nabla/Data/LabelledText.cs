namespace Nabla.Data;

/// <summary>Where the label stands on each line of a labelled text file.</summary>
public enum LabelPosition
{
    /// <summary><c>text&lt;TAB&gt;label</c> (the sentiment sentences); the last separator splits, so the text may hold the separator.</summary>
    Last,

    /// <summary><c>label&lt;TAB&gt;text</c> (the SMS spam collection); the first separator splits.</summary>
    First,
}

/// <summary>
/// A plain-text corpus with one labelled example per line, read strictly: every line is decoded
/// as UTF-8 and an invalid byte, a line without a separator or an empty label is an error naming
/// the file, line and column. Blank lines are skipped and counted in <see cref="BlankLines"/>.
/// </summary>
public sealed class LabelledText
{
    private LabelledText(string source, List<string> texts, List<string> labels, int blankLines)
    {
        Source = source;
        Texts = texts;
        Labels = labels;
        BlankLines = blankLines;
        Classes = labels.Distinct().Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The file (or files) read.</summary>
    public string Source { get; }

    /// <summary>The texts, in file order.</summary>
    public IReadOnlyList<string> Texts { get; }

    /// <summary>The label of each text, as written.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>The distinct labels in ordinal order; a label's class index is its position here.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Blank lines skipped (reported, not silently dropped).</summary>
    public int BlankLines { get; }

    /// <summary>Number of examples.</summary>
    public int Count => Texts.Count;

    /// <summary>The class index of each example (its label's position in <see cref="Classes"/>).</summary>
    public float[] ClassIndices()
    {
        var index = Classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
        return Labels.Select(l => (float)index[l]).ToArray();
    }

    /// <summary>Reads one file with <paramref name="separator"/> between text and label.</summary>
    public static LabelledText Read(string path, LabelPosition label = LabelPosition.Last, char separator = '\t') =>
        ReadAll([path], label, separator);

    /// <summary>Reads several files of the same layout into one corpus, in the order given.</summary>
    public static LabelledText ReadAll(IReadOnlyList<string> paths, LabelPosition label = LabelPosition.Last, char separator = '\t')
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.Count == 0) throw new ArgumentException("No files to read.", nameof(paths));
        var texts = new List<string>();
        var labels = new List<string>();
        int blank = 0;
        foreach (string path in paths)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file.", path);
            byte[] bytes = File.ReadAllBytes(path);
            if (bytes.Length == 0) throw new InvalidDataException($"{path}: the file is empty.");
            string[] lines = CsvTable.DecodeUtf8(bytes, path).Split('\n');
            int lineNumber = 0, before = texts.Count;
            foreach (string raw in lines)
            {
                lineNumber++;
                string line = raw.TrimEnd('\r');
                if (line.Trim().Length == 0)
                {
                    if (lineNumber < lines.Length) blank++;
                    continue;
                }
                int cut = label == LabelPosition.Last ? line.LastIndexOf(separator) : line.IndexOf(separator);
                if (cut < 0) throw new InvalidDataException($"{path}: line {lineNumber}: no {Describe(separator)} between text and label.");
                string text = label == LabelPosition.Last ? line[..cut] : line[(cut + 1)..];
                string name = (label == LabelPosition.Last ? line[(cut + 1)..] : line[..cut]).Trim();
                if (name.Length == 0) throw new InvalidDataException($"{path}: line {lineNumber}, column {(label == LabelPosition.Last ? cut + 2 : 1)}: the label is empty.");
                texts.Add(text);
                labels.Add(name);
            }
            if (texts.Count == before) throw new InvalidDataException($"{path}: no labelled lines, only blank lines.");
        }
        return new LabelledText(string.Join(", ", paths), texts, labels, blank);
    }

    private static string Describe(char separator) => separator switch
    {
        '\t' => "tab",
        ',' => "comma",
        _ => $"'{separator}'",
    };
}
