using System.Globalization;
using Spectre.Console;

namespace Nabla.Cli;

/// <summary>Coloured console tables (Spectre.Console) for a model summary and final figures.</summary>
internal static class Tables
{
    /// <summary>Layers, output shapes and parameter counts, as Keras's summary, with totals.</summary>
    public static void Summary(Sequential model)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]Model \"{Markup.Escape(model.Name)}\"[/]")
            .AddColumn("[blue]Layer (type)[/]").AddColumn("[blue]Output Shape[/]").AddColumn(new TableColumn("[blue]Param #[/]").RightAligned());
        foreach (var row in model.SummaryRows())
            table.AddRow($"{Markup.Escape(row.Name)} [grey]({Markup.Escape(row.Type)})[/]", Markup.Escape(row.Shape), row.Parameters.ToString("N0", CultureInfo.InvariantCulture));
        var (trainable, frozen) = model.ParameterCounts();
        table.Caption($"total {trainable + frozen:N0} parameters, {trainable:N0} trainable");
        AnsiConsole.Write(table);
    }

    /// <summary>The final figures, test figures highlighted.</summary>
    public static void Metrics(IEnumerable<KeyValuePair<string, double>> metrics)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("[blue]figure[/]").AddColumn(new TableColumn("[blue]value[/]").RightAligned());
        foreach (var (k, v) in metrics)
        {
            string value = v.ToString("G5", CultureInfo.InvariantCulture);
            table.AddRow(Markup.Escape(k), k.StartsWith("test_", StringComparison.Ordinal) ? $"[bold green]{value}[/]" : value);
        }
        AnsiConsole.Write(table);
    }
}

/// <summary>A writer that passes lines through and keeps them (for the report's notes).</summary>
internal sealed class NoteWriter(TextWriter inner) : TextWriter
{
    private readonly System.Text.StringBuilder _line = new();

    /// <summary>The complete lines written so far.</summary>
    public List<string> Lines { get; } = [];

    public override System.Text.Encoding Encoding => inner.Encoding;

    public override void Write(char value)
    {
        inner.Write(value);
        if (value == '\n')
        {
            Lines.Add(_line.ToString().TrimEnd('\r'));
            _line.Clear();
        }
        else
        {
            _line.Append(value);
        }
    }

    public override void Write(string? value)
    {
        foreach (char c in value ?? "") Write(c);
    }

    public override void WriteLine(string? value)
    {
        Write(value);
        Write('\n');
    }
}
