using System.Globalization;
using System.Text;

namespace Nabla.IO;

/// <summary>A named series of y values at x = 1, 2, 3, ... (NaN and, on a log scale, non-positive values are skipped).</summary>
/// <param name="Name">Legend text.</param>
/// <param name="Values">The y values.</param>
public sealed record ChartSeries(string Name, IReadOnlyList<double> Values);

/// <summary>Writes simple line charts as SVG: training curves, gradient norms. No dependency, viewable in any browser.</summary>
public static class SvgChart
{
    private static readonly string[] Colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    /// <summary>Draws <paramref name="series"/> as lines into an SVG file (atomically).</summary>
    public static void Write(string path, string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series, bool logY = false)
    {
        const int width = 760, height = 380, left = 70, right = 190, top = 34, bottom = 44;
        double Map(double v) => logY ? Math.Log10(v) : v;
        var usable = series.SelectMany(s => s.Values).Where(v => double.IsFinite(v) && (!logY || v > 0)).Select(Map).ToList();
        double lo = usable.Count > 0 ? usable.Min() : 0, hi = usable.Count > 0 ? usable.Max() : 1;
        if (logY) { lo = Math.Floor(lo); hi = Math.Ceiling(hi); }
        if (hi <= lo) hi = lo + 1;
        int points = Math.Max(series.Count == 0 ? 1 : series.Max(s => s.Values.Count), 1);
        double X(int i) => left + (points <= 1 ? 0 : (width - left - right) * i / (double)(points - 1));
        double Y(double v) => top + (height - top - bottom) * (hi - Map(v)) / (hi - lo);
        var inv = CultureInfo.InvariantCulture;
        var svg = new StringBuilder();
        svg.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        svg.Append(inv, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n");
        svg.Append(inv, $"<text x=\"{left}\" y=\"20\" font-size=\"13\">{Escape(title)}</text>\n");
        for (int t = 0; t <= 4; t++)
        {
            double v = lo + (hi - lo) * t / 4;
            double y = top + (height - top - bottom) * (hi - v) / (hi - lo);
            string label = logY ? $"1e{v:0.#}" : v.ToString("G3", inv);
            svg.Append(inv, $"<line x1=\"{left}\" x2=\"{width - right}\" y1=\"{y:F1}\" y2=\"{y:F1}\" stroke=\"#ddd\"/><text x=\"{left - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{label}</text>\n");
        }
        svg.Append(inv, $"<text x=\"{(left + width - right) / 2}\" y=\"{height - 10}\" text-anchor=\"middle\">{Escape(xLabel)}</text>\n");
        svg.Append(inv, $"<text x=\"14\" y=\"{height / 2}\" transform=\"rotate(-90 14 {height / 2})\" text-anchor=\"middle\">{Escape(yLabel)}</text>\n");
        for (int s = 0; s < series.Count; s++)
        {
            string colour = Colours[s % Colours.Length];
            var pts = series[s].Values.Select((v, i) => (v, i)).Where(p => double.IsFinite(p.v) && (!logY || p.v > 0))
                .Select(p => string.Create(inv, $"{X(p.i):F1},{Y(p.v):F1}"));
            svg.Append(inv, $"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{string.Join(' ', pts)}\"/>\n");
            svg.Append(inv, $"<text x=\"{width - right + 8}\" y=\"{top + 14 * s + 10}\" fill=\"{colour}\">{Escape(series[s].Name)}</text>\n");
        }
        svg.Append("</svg>\n");
        AtomicFile.WriteText(path, svg.ToString());
    }

    private static string Escape(string s) => System.Security.SecurityElement.Escape(s) ?? "";
}
