using System.Globalization;
using System.Net;
using System.Text;
using Nabla.Training;

namespace Nabla.Cli;

/// <summary>
/// One self-contained HTML page about a training run: what was trained on, the model summary,
/// the final figures, the training curves and (for classifiers) the confusion matrix, with the
/// pictures inlined as PNG data so the page can be mailed or archived alone.
/// </summary>
public sealed class Report
{
    /// <summary>The page title.</summary>
    public required string Title { get; init; }

    /// <summary>Lines describing the data and the split.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>The model's layers.</summary>
    public IReadOnlyList<LayerSummary> Layers { get; init; } = [];

    /// <summary>Final figures, in order.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();

    /// <summary>Named PNG pictures, in order.</summary>
    public IReadOnlyList<(string Caption, byte[] Png)> Pictures { get; init; } = [];

    /// <summary>A leaderboard (a header row, then rows), shown under its own heading when not empty.</summary>
    public IReadOnlyList<string[]> Leaderboard { get; init; } = [];

    /// <summary>The page's HTML.</summary>
    public string ToHtml()
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(Title)).Append("</title>\n<style>")
          .Append("body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}")
          .Append("td,th{border:1px solid #ccc;padding:4px 10px;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}")
          .Append("figure{margin:1.5em 0}img{max-width:100%;border:1px solid #eee}</style></head><body>\n");
        sb.Append("<h1>").Append(E(Title)).Append("</h1>\n<p>Written by nabla on ").Append(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", inv)).Append(".</p>\n");
        if (Notes.Count > 0)
        {
            sb.Append("<h2>Data</h2>\n<ul>\n");
            foreach (string n in Notes) sb.Append("<li>").Append(E(n)).Append("</li>\n");
            sb.Append("</ul>\n");
        }
        if (Metrics.Count > 0)
        {
            sb.Append("<h2>Results</h2>\n<table id=\"metrics\"><tr><th>figure</th><th>value</th></tr>\n");
            foreach (var (k, v) in Metrics) sb.Append("<tr><td>").Append(E(k)).Append("</td><td class=\"n\">").Append(v.ToString("G6", inv)).Append("</td></tr>\n");
            sb.Append("</table>\n");
        }
        if (Layers.Count > 0)
        {
            sb.Append("<h2>Model</h2>\n<table id=\"model\"><tr><th>layer</th><th>type</th><th>output shape</th><th>parameters</th></tr>\n");
            foreach (var l in Layers)
                sb.Append("<tr><td>").Append(E(l.Name)).Append("</td><td>").Append(E(l.Type)).Append("</td><td>").Append(E(l.Shape))
                  .Append("</td><td class=\"n\">").Append(l.Parameters.ToString("N0", inv)).Append("</td></tr>\n");
            sb.Append("<tr><td colspan=\"3\">total</td><td class=\"n\">").Append(Layers.Sum(l => l.Parameters).ToString("N0", inv)).Append("</td></tr>\n</table>\n");
        }
        if (Leaderboard.Count > 1)
        {
            sb.Append("<h2>Leaderboard</h2>\n<table id=\"leaderboard\">\n<tr>");
            foreach (string h in Leaderboard[0]) sb.Append("<th>").Append(E(h)).Append("</th>");
            sb.Append("</tr>\n");
            foreach (string[] row in Leaderboard.Skip(1))
            {
                sb.Append("<tr>");
                foreach (string cell in row) sb.Append("<td>").Append(E(cell)).Append("</td>");
                sb.Append("</tr>\n");
            }
            sb.Append("</table>\n");
        }
        foreach (var (caption, png) in Pictures)
        {
            sb.Append("<figure><img alt=\"").Append(E(caption)).Append("\" src=\"data:image/png;base64,").Append(Convert.ToBase64String(png))
              .Append("\"><figcaption>").Append(E(caption)).Append("</figcaption></figure>\n");
        }
        sb.Append("</body></html>\n");
        return sb.ToString();
    }
}
