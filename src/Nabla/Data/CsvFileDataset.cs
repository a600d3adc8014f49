using System.Globalization;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Nabla.Data;

/// <summary>
/// A numeric CSV file read lazily: opening it scans the file once for where each row starts,
/// and <see cref="Batch"/> reads and parses only the rows it is asked for, so a table larger than
/// memory can feed a <see cref="DataLoader"/> (whose background prefetch overlaps the reads with
/// training). One row per line (a quoted field may not span lines here; use
/// <see cref="CsvTable"/> for such files). A value that is not a number is an error naming the
/// file, line and column when its row is first read.
/// </summary>
public sealed class CsvFileDataset : IDataset, IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly long[] _starts;
    private readonly int[] _lengths;
    private readonly int[] _lineNumbers;
    private readonly int[] _featureColumns, _targetColumns;
    private readonly int _columnCount;
    private readonly char _delimiter;

    /// <summary>
    /// Opens <paramref name="path"/> (a header line, then rows); targets are the
    /// <paramref name="targetColumns"/>, inputs the <paramref name="featureColumns"/> (all the
    /// others when null), each in the order named.
    /// </summary>
    public CsvFileDataset(string path, IReadOnlyList<string> targetColumns, IReadOnlyList<string>? featureColumns = null, char delimiter = ',')
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(targetColumns);
        if (targetColumns.Count == 0) throw new ArgumentException("Name at least one target column.", nameof(targetColumns));
        if (!File.Exists(path)) throw new FileNotFoundException($"CSV file not found: {path}", path);
        Source = path;
        _delimiter = delimiter;
        var starts = new List<long>();
        var lengths = new List<int>();
        var lineNumbers = new List<int>();
        string[]? header = null;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
        {
            var headerBytes = new List<byte>();
            var buffer = new byte[1 << 16];
            long lineStart = 0, position = 0;
            int lineNumber = 0;
            bool blank = true, endsWithReturn = false;
            void EndLine(long end)
            {
                lineNumber++;
                int length = (int)(end - lineStart) - (endsWithReturn ? 1 : 0);
                if (blank) headerBytes.Clear();
                else if (header is null)
                    header = CsvTable.Split(Encoding.UTF8.GetString([.. headerBytes]).TrimEnd('\r').TrimStart('\uFEFF'), delimiter, path, lineNumber).Select(h => h.Trim()).ToArray();
                else
                {
                    starts.Add(lineStart);
                    lengths.Add(length);
                    lineNumbers.Add(lineNumber);
                }
                blank = true;
                endsWithReturn = false;
            }
            int n;
            while ((n = stream.Read(buffer)) > 0)
            {
                for (int i = 0; i < n; i++, position++)
                {
                    byte b = buffer[i];
                    if (b == (byte)'\n')
                    {
                        EndLine(position);
                        lineStart = position + 1;
                        continue;
                    }
                    if (header is null) headerBytes.Add(b);
                    if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r')) blank = false;
                    endsWithReturn = b == (byte)'\r';
                }
            }
            if (position > lineStart) EndLine(position);
        }
        if (header is null) throw new InvalidDataException($"{path}: the file is empty (no header line).");
        Columns = header;
        _columnCount = header.Length;
        int Index(string name) => Array.IndexOf(header, name) is int i and >= 0 ? i
            : throw new ArgumentException($"{path}: no column '{name}'; the columns are {string.Join(", ", header)}.");
        _targetColumns = targetColumns.Select(Index).ToArray();
        _featureColumns = featureColumns is null
            ? Enumerable.Range(0, header.Length).Where(i => !_targetColumns.Contains(i)).ToArray()
            : featureColumns.Select(Index).ToArray();
        _starts = [.. starts];
        _lengths = [.. lengths];
        _lineNumbers = [.. lineNumbers];
        _file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
    }

    /// <summary>The file.</summary>
    public string Source { get; }

    /// <summary>The header's column names.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <inheritdoc/>
    public int Count => _starts.Length;

    /// <summary>Number of input values per row.</summary>
    public int FeatureCount => _featureColumns.Length;

    /// <inheritdoc/>
    public DataBatch Batch(ReadOnlySpan<int> indices)
    {
        ObjectDisposedException.ThrowIf(_file.IsClosed, this);
        var x = new float[indices.Length * _featureColumns.Length];
        var y = new float[indices.Length * _targetColumns.Length];
        for (int k = 0; k < indices.Length; k++)
        {
            int row = indices[k];
            if ((uint)row >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), $"{Source}: row {row} does not exist; the file has {Count} rows.");
            string[] fields = ReadRow(row);
            Fill(fields, _featureColumns, x.AsSpan(k * _featureColumns.Length, _featureColumns.Length), row);
            Fill(fields, _targetColumns, y.AsSpan(k * _targetColumns.Length, _targetColumns.Length), row);
        }
        return (Tensor.FromArray(x, indices.Length, _featureColumns.Length), Tensor.FromArray(y, indices.Length, _targetColumns.Length));
    }

    private string[] ReadRow(int row)
    {
        var bytes = new byte[_lengths[row]];
        int read = 0;
        while (read < bytes.Length)
        {
            int n = RandomAccess.Read(_file, bytes.AsSpan(read), _starts[row] + read);
            if (n == 0) throw new InvalidDataException($"{Source}: line {_lineNumbers[row]}: the file changed since it was opened.");
            read += n;
        }
        string[] fields = CsvTable.Split(Encoding.UTF8.GetString(bytes), _delimiter, Source, _lineNumbers[row]);
        if (fields.Length != _columnCount)
            throw new InvalidDataException($"{Source}: line {_lineNumbers[row]}: {fields.Length} fields, but the header has {_columnCount} columns.");
        return fields;
    }

    private void Fill(string[] fields, int[] columns, Span<float> destination, int row)
    {
        for (int j = 0; j < columns.Length; j++)
        {
            string value = fields[columns[j]].Trim();
            if (!float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out destination[j]))
                throw new InvalidDataException($"{Source}: line {_lineNumbers[row]}, column '{Columns[columns[j]]}': '{value}' is not a number.");
        }
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => _file.Dispose();
}
