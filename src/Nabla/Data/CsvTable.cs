using System.Globalization;
using System.Text;

namespace Nabla.Data;

/// <summary>
/// A CSV file as named text columns: a header line, then one row per line; fields separated by
/// commas (or another delimiter), optionally in double quotes (with "" for a quote inside).
/// Rows with the wrong number of fields are refused naming the line. Empty fields, "NA", "NaN"
/// and "?" are missing values; <see cref="RequireComplete"/> reports them by line and column.
/// </summary>
public sealed class CsvTable
{
    private static readonly string[] MissingMarkers = ["", "NA", "N/A", "NaN", "nan", "?", "null"];

    private CsvTable(string source, string[] header, List<string[]> rows, List<int> lines)
    {
        Source = source;
        Columns = header;
        Rows = rows;
        LineNumbers = lines;
    }

    /// <summary>Where the table came from, for messages.</summary>
    public string Source { get; }

    /// <summary>The column names, from the header.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>The rows, each one field per column.</summary>
    public IReadOnlyList<string[]> Rows { get; }

    /// <summary>The file line of each row (1-based), for messages.</summary>
    public IReadOnlyList<int> LineNumbers { get; }

    /// <summary>Reads a CSV file.</summary>
    public static CsvTable Read(string path, char delimiter = ',')
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"CSV file not found: {path}", path);
        return Parse(new StringReader(DecodeUtf8(File.ReadAllBytes(path), path)), path, delimiter);
    }

    /// <summary>
    /// The text of a UTF-8 file (a byte-order mark dropped); a byte that is not UTF-8 is an error
    /// naming its line and byte, never a silent replacement character.
    /// </summary>
    internal static string DecodeUtf8(byte[] bytes, string source)
    {
        int start = bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        var text = new char[bytes.Length];
        var status = System.Text.Unicode.Utf8.ToUtf16(bytes.AsSpan(start), text, out int read, out int written, replaceInvalidSequences: false);
        if (status == System.Buffers.OperationStatus.Done) return new string(text, 0, written);
        int bad = start + read;
        int line = bytes.AsSpan(0, bad).Count((byte)'\n') + 1;
        int lineStart = bytes.AsSpan(0, bad).LastIndexOf((byte)'\n') + 1;
        throw new InvalidDataException($"{source}: line {line}, byte {bad - lineStart + 1}: not valid UTF-8 (0x{bytes[bad]:X2}). Save the file as UTF-8.");
    }

    /// <summary>Parses CSV text; <paramref name="source"/> names it in messages.</summary>
    public static CsvTable Parse(TextReader reader, string source, char delimiter = ',')
    {
        string[]? header = null;
        var rows = new List<string[]>();
        var lines = new List<int>();
        int lineNumber = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            int startLine = lineNumber;
            // A quoted field may span lines: keep reading while a quote is open.
            while (QuotesOpen(line))
            {
                string? next = reader.ReadLine() ?? throw new InvalidDataException($"{source}: line {startLine}: a quoted field is never closed.");
                lineNumber++;
                line += "\n" + next;
            }
            if (line.Trim().Length == 0) continue;
            string[] fields = Split(line, delimiter, source, startLine);
            if (header is null)
            {
                header = fields.Select(f => f.Trim()).ToArray();
                var seen = new HashSet<string>();
                foreach (string h in header)
                {
                    if (!seen.Add(h)) throw new InvalidDataException($"{source}: line {startLine}: the header names column '{h}' twice.");
                }
                continue;
            }
            if (fields.Length != header.Length)
                throw new InvalidDataException($"{source}: line {startLine}: {fields.Length} fields, but the header has {header.Length} columns.");
            rows.Add(fields);
            lines.Add(startLine);
        }
        if (header is null) throw new InvalidDataException($"{source}: the file is empty (no header line).");
        return new CsvTable(source, header, rows, lines);
    }

    private static bool QuotesOpen(string line)
    {
        int quotes = 0;
        foreach (char c in line) if (c == '"') quotes++;
        return quotes % 2 == 1;
    }

    internal static string[] Split(string line, char delimiter, string source, int lineNumber)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"')
            {
                if (field.ToString().Trim().Length > 0) throw new InvalidDataException($"{source}: line {lineNumber}: a quote in the middle of an unquoted field.");
                field.Clear();
                quoted = true;
            }
            else if (c == delimiter)
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }
        fields.Add(field.ToString());
        return [.. fields];
    }

    /// <summary>The index of a column, or an error listing the columns there are.</summary>
    public int ColumnIndex(string name)
    {
        for (int i = 0; i < Columns.Count; i++)
        {
            if (Columns[i] == name) return i;
        }
        throw new ArgumentException($"{Source}: there is no column '{name}'. Columns: {string.Join(", ", Columns)}.");
    }

    /// <summary>True for the values that count as missing.</summary>
    public static bool IsMissing(string value) => MissingMarkers.Contains(value.Trim());

    /// <summary>Throws when any value is missing, naming up to five places by line and column.</summary>
    public void RequireComplete()
    {
        var places = new List<string>();
        int count = 0;
        for (int r = 0; r < Rows.Count; r++)
        {
            for (int c = 0; c < Columns.Count; c++)
            {
                if (!IsMissing(Rows[r][c])) continue;
                count++;
                if (places.Count < 5) places.Add($"line {LineNumbers[r]} column '{Columns[c]}'");
            }
        }
        if (count > 0)
            throw new InvalidDataException($"{Source}: {count} missing value(s), at {string.Join(", ", places)}{(count > 5 ? ", ..." : "")}. Fill or drop them first.");
    }

    /// <summary>True when every value of the column parses as a number (invariant culture).</summary>
    public bool IsNumeric(int column) => Rows.All(r => float.TryParse(r[column], NumberStyles.Float, CultureInfo.InvariantCulture, out _));
}
