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

    private Dictionary<string, int>? _columnIndex;

    /// <summary>Where the table came from, for messages.</summary>
    public string Source { get; }

    /// <summary>The column names, from the header.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>The rows, each one field per column.</summary>
    public IReadOnlyList<string[]> Rows { get; }

    /// <summary>The file line of each row (1-based), for messages.</summary>
    public IReadOnlyList<int> LineNumbers { get; }

    /// <summary>Reads a CSV file (UTF-8), streaming: the table's strings are all it keeps in memory.</summary>
    public static CsvTable Read(string path, char delimiter = ',')
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path)) throw new FileNotFoundException($"{path} is a directory, not a CSV file.", path);
        if (!File.Exists(path)) throw new FileNotFoundException($"CSV file not found: {path}", path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        using var reader = new StrictUtf8Reader(stream, path);
        return Parse(reader, path, delimiter);
    }

    /// <summary>
    /// The text of a UTF-8 file (a byte-order mark dropped); a byte that is not UTF-8 is an error
    /// naming its line and byte, never a silent replacement character.
    /// </summary>
    internal static string DecodeUtf8(byte[] bytes, string source)
    {
        using var reader = new StrictUtf8Reader(new MemoryStream(bytes, writable: false), source);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// Parses CSV text; <paramref name="source"/> names it in messages. One pass over the characters:
    /// a quoted field may span lines, <c>""</c> inside quotes is a quote, and a line of only spaces
    /// is skipped. Lines end with \n, \r\n or \r.
    /// </summary>
    public static CsvTable Parse(TextReader reader, string source, char delimiter = ',')
    {
        ArgumentNullException.ThrowIfNull(reader);
        string[]? header = null;
        var rows = new List<string[]>();
        var lines = new List<int>();
        var fields = new List<string>();
        var field = new StringBuilder();
        bool quoted = false, sawQuote = false, blank = true, pendingCr = false;
        int lineNumber = 1, startLine = 1;
        var buffer = new char[1 << 16];
        int read;
        while ((read = reader.Read(buffer, 0, buffer.Length)) > 0)
        {
            for (int i = 0; i < read; i++)
            {
                char c = buffer[i];
                if (pendingCr)
                {
                    pendingCr = false;
                    if (c == '\n') continue; // the \n of a \r\n
                }
                if (quoted)
                {
                    if (c == '"')
                    {
                        // A quote closes the field unless the next character (in this buffer or the reader's next) is another quote.
                        bool doubled = i + 1 < read ? buffer[i + 1] == '"' : reader.Peek() == '"';
                        if (!doubled) quoted = false;
                        else if (i + 1 < read) { field.Append('"'); i++; }
                        else { reader.Read(); field.Append('"'); }
                    }
                    else if (c is '\n' or '\r')
                    {
                        field.Append('\n');
                        lineNumber++;
                        pendingCr = c == '\r';
                    }
                    else
                    {
                        field.Append(c);
                    }
                    continue;
                }
                if (c is '\n' or '\r')
                {
                    EndRecord();
                    lineNumber++;
                    startLine = lineNumber;
                    pendingCr = c == '\r';
                }
                else if (c == '"')
                {
                    if (!IsBlank(field)) throw new InvalidDataException($"{source}: line {lineNumber}: a quote in the middle of an unquoted field.");
                    field.Clear();
                    quoted = sawQuote = true;
                    blank = false;
                }
                else if (c == delimiter)
                {
                    fields.Add(field.ToString());
                    field.Clear();
                    blank = false;
                }
                else
                {
                    field.Append(c);
                    if (blank && !char.IsWhiteSpace(c)) blank = false;
                }
            }
        }
        if (quoted) throw new InvalidDataException($"{source}: line {startLine}: a quoted field is never closed.");
        EndRecord();
        if (header is null) throw new InvalidDataException($"{source}: the file is empty (no header line).");
        return new CsvTable(source, header, rows, lines);

        void EndRecord()
        {
            if (blank && !sawQuote && fields.Count == 0)
            {
                field.Clear();
                return;
            }
            fields.Add(field.ToString());
            field.Clear();
            string[] record = [.. fields];
            fields.Clear();
            blank = true;
            sawQuote = false;
            if (header is null)
            {
                header = record.Select(f => f.Trim()).ToArray();
                var seen = new HashSet<string>();
                foreach (string h in header)
                {
                    if (!seen.Add(h)) throw new InvalidDataException($"{source}: line {startLine}: the header names column '{h}' twice.");
                }
                return;
            }
            if (record.Length != header.Length)
                throw new InvalidDataException($"{source}: line {startLine}: {record.Length} fields, but the header has {header.Length} columns.");
            rows.Add(record);
            lines.Add(startLine);
        }
    }

    private static bool IsBlank(StringBuilder field)
    {
        for (int i = 0; i < field.Length; i++)
        {
            if (!char.IsWhiteSpace(field[i])) return false;
        }
        return true;
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
        if (_columnIndex is null)
        {
            var index = new Dictionary<string, int>(Columns.Count);
            for (int i = 0; i < Columns.Count; i++) index.TryAdd(Columns[i], i);
            _columnIndex = index;
        }
        if (_columnIndex.TryGetValue(name, out int found)) return found;
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

/// <summary>
/// Decodes UTF-8 from a stream in chunks (a byte-order mark dropped); a byte that is not UTF-8 is
/// an <see cref="InvalidDataException"/> naming its line and byte, never a silent replacement.
/// </summary>
internal sealed class StrictUtf8Reader(Stream stream, string source) : TextReader
{
    private readonly byte[] _bytes = new byte[1 << 16];
    private int _start, _end;            // undecoded bytes in _bytes
    private long _consumed;              // bytes decoded before _bytes[_start]
    private int _line = 1;
    private long _lineStart;             // file offset where the current line starts
    private bool _eof, _first = true;
    private readonly char[] _chars = new char[1 << 16];
    private int _charStart, _charEnd;

    private bool Fill()
    {
        while (_charStart == _charEnd)
        {
            if (_eof && _start == _end) return false;
            if (!_eof)
            {
                if (_start > 0)
                {
                    Array.Copy(_bytes, _start, _bytes, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }
                int n = stream.Read(_bytes, _end, _bytes.Length - _end);
                if (n == 0) _eof = true;
                _end += n;
            }
            if (_first && (_end - _start >= 3 || _eof))
            {
                _first = false;
                if (_bytes.AsSpan(_start, _end - _start).StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
                {
                    _start += 3;
                    _consumed += 3;
                    _lineStart = 3;
                }
            }
            ReadOnlySpan<byte> pending = _bytes.AsSpan(_start, _end - _start);
            var status = System.Text.Unicode.Utf8.ToUtf16(pending, _chars, out int used, out int written, replaceInvalidSequences: false, isFinalBlock: _eof);
            ReadOnlySpan<byte> done = pending[..used];
            for (int i = done.IndexOf((byte)'\n'); i >= 0; i = done.IndexOf((byte)'\n'))
            {
                _line++;
                _lineStart = _consumed + (used - done.Length) + i + 1; // just past this newline
                done = done[(i + 1)..];
            }
            if (status == System.Buffers.OperationStatus.InvalidData)
            {
                long bad = _consumed + used;
                throw new InvalidDataException($"{source}: line {_line}, byte {bad - _lineStart + 1}: not valid UTF-8 (0x{_bytes[_start + used]:X2}). Save the file as UTF-8.");
            }
            _start += used;
            _consumed += used;
            _charStart = 0;
            _charEnd = written;
            if (written == 0 && _eof && _start < _end)
                throw new InvalidDataException($"{source}: line {_line}: the file ends inside a UTF-8 character. Save the file as UTF-8.");
        }
        return true;
    }

    /// <inheritdoc/>
    public override int Peek() => Fill() ? _chars[_charStart] : -1;

    /// <inheritdoc/>
    public override int Read() => Fill() ? _chars[_charStart++] : -1;

    /// <inheritdoc/>
    public override int Read(char[] buffer, int index, int count)
    {
        if (!Fill()) return 0;
        int n = Math.Min(count, _charEnd - _charStart);
        Array.Copy(_chars, _charStart, buffer, index, n);
        _charStart += n;
        return n;
    }
}
