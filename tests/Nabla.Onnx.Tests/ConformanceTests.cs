using Xunit.Abstractions;

namespace Nabla.Onnx.Tests;

/// <summary>The ONNX backend node tests of Debian's libonnx-testdata, run for every op the importer claims.</summary>
public class ConformanceTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void EveryClaimedOpPassesItsFloatTestsAndOthersAreRefusedByName()
    {
        Skip.IfNot(ConformanceSuite.Available, $"{ConformanceSuite.Root} is missing: install Debian's libonnx-testdata (scripts/install-data.sh does).");
        var results = ConformanceSuite.TestFolders().Select(ConformanceSuite.Run).ToList();
        foreach (var r in results.Where(r => r.Outcome is Outcome.Failed or Outcome.Refused))
            output.WriteLine($"{r.Outcome,-8} {r.Name}: {r.Detail}");
        output.WriteLine($"passed {results.Count(r => r.Outcome == Outcome.Passed)}, refused {results.Count(r => r.Outcome == Outcome.Refused)}, failed {results.Count(r => r.Outcome == Outcome.Failed)}, not claimed {results.Count(r => r.Outcome == Outcome.NotClaimed)} of {results.Count}");
        Assert.True(results.Count > 900, $"only {results.Count} node tests found");
        // NABLA_ONNX_REPORT=FILE writes the per-op table of docs/ONNX.md.
        if (Environment.GetEnvironmentVariable("NABLA_ONNX_REPORT") is { Length: > 0 } report) File.WriteAllText(report, ConformanceSuite.Table(results));
        Assert.Empty(results.Where(r => r.Outcome == Outcome.Failed).Select(r => $"{r.Name}: {r.Detail}"));
    }
}
