using System.Text;
using VulkanCnn.Tests.Infrastructure;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace VulkanCnn.Tests.Onnx;

/// <summary>
/// ONNX backend conformance: one case per test-data directory whose ops the importer and the
/// library handle (plus any directory the skip list names), imported, run on the GPU and compared
/// with the expected outputs. The summary (ordered last) prints pass/fail/skip counts per op.
/// </summary>
[TestCaseOrderer("VulkanCnn.Tests.Onnx.SummaryLastOrderer", "VulkanCnn.Tests")]
public sealed class OnnxConformanceTests(GpuFixture gpu, ITestOutputHelper output) : GpuTest(gpu)
{
    public static IEnumerable<object[]> Cases =>
        ConformanceData.Cases.TestCases.Any() ? ConformanceData.Cases.TestCases.Select(c => new object[] { c.Id }) : [["(no test data)"]];

    [Theory, MemberData(nameof(Cases))]
    public void Case(string id)
    {
        Assert.True(ConformanceData.Cases.TestCases.Any(c => c.Id == id), string.Join("\n", ConformanceData.Cases.Problems));
        var c = ConformanceData.Cases.Get(id);
        var outcome = ConformanceData.Run(Device, c);
        output.WriteLine($"{id} [{string.Join(", ", c.OpTypes)}] opset {c.Opset}: {outcome.Status}: {outcome.Message}");
        Assert.True(outcome.Status != CaseOutcome.Failed, outcome.Message);
    }

    [Fact]
    public void Summary()
    {
        var catalogue = ConformanceData.Cases;
        Assert.True(catalogue.Problems.Count == 0, string.Join("\n", catalogue.Problems));
        // Run whatever this process has not run yet (a filtered run), so the table is always whole.
        foreach (var c in catalogue.TestCases)
            if (!ConformanceData.Outcomes.ContainsKey(c.Id)) ConformanceData.Run(Device, c);

        var rows = new SortedDictionary<string, int[]>(StringComparer.Ordinal); // passed, failed, skipped, outside
        foreach (var c in catalogue.TestCases)
        {
            var o = ConformanceData.Outcomes[c.Id];
            int column = o.Status switch { CaseOutcome.Passed => 0, CaseOutcome.Failed => 1, _ => 2 };
            foreach (var op in c.OpTypes.Where(op => op != "Constant").DefaultIfEmpty("Constant"))
                (rows.TryGetValue(op, out var r) ? r : rows[op] = new int[4])[column]++;
        }
        foreach (var c in catalogue.Outside.Where(c => !catalogue.Skips.ContainsKey(c.Id)))
            foreach (var op in c.OutsideOps)
                (rows.TryGetValue(op, out var r) ? r : rows[op] = new int[4])[3]++;

        var outcomes = catalogue.TestCases.Select(c => ConformanceData.Outcomes[c.Id]).ToList();
        int passed = outcomes.Count(o => o.Status == CaseOutcome.Passed), failed = outcomes.Count(o => o.Status == CaseOutcome.Failed);
        int skipped = outcomes.Count(o => o.Status == CaseOutcome.Skipped);
        int outside = catalogue.Outside.Count(c => !catalogue.Skips.ContainsKey(c.Id));

        var table = new StringBuilder();
        table.AppendLine("ONNX backend conformance (libonnx-testdata: " + string.Join(", ", ConformanceData.Suites) + ")");
        table.AppendLine($"{"op",-28} {"passed",7} {"failed",7} {"skipped",8} {"outside",8}");
        foreach (var (op, r) in rows)
            table.AppendLine($"{op,-28} {r[0],7} {r[1],7} {r[2],8} {r[3],8}");
        table.AppendLine($"cases: {passed} passed, {failed} failed, {skipped} skipped; {outside} directories use ops outside the library");
        table.AppendLine("(a case counts once under each op type it uses; 'outside' counts directories by the unsupported op types they " +
            "use)");
        foreach (var group in outcomes.Where(o => o.Status == CaseOutcome.Skipped).GroupBy(o =>
            catalogue.Skips[o.Id].Category.Split(':')[0]).OrderBy(g => g.Key))
            table.AppendLine($"skipped, {group.Key}: {group.Count()}");
        int contract = outcomes.Count(o => o.Status == CaseOutcome.Passed
            && o.Message.StartsWith("contract check", StringComparison.Ordinal));
        if (contract > 0) table.AppendLine($"passed by a contract check, not an exact comparison (random Dropout masks): {contract}");
        foreach (var o in outcomes.Where(o => o.Status == CaseOutcome.Failed))
            table.AppendLine($"FAILED {o.Id}: {o.Message}");
        double worst = outcomes.Where(o => o.Status == CaseOutcome.Passed).Select(o => o.WorstError).DefaultIfEmpty(0).Max();
        table.AppendLine($"worst scaled error of a passing case: {worst:E2}");

        output.WriteLine(table.ToString());
        string file = Repo.PathOf("artifacts", "test-results", "onnx-conformance.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, table.ToString());
        Assert.True(passed > 0, "no conformance case ran");
        Assert.True(failed == 0,
            $"{failed} conformance case(s) failed:\n" + string.Join("\n",
                outcomes.Where(o => o.Status == CaseOutcome.Failed).Select(o => $"{o.Id}: {o.Message}")));
    }
}

/// <summary>Runs the cases before the summary (xunit orders test cases by a hash otherwise).</summary>
public sealed class SummaryLastOrderer : ITestCaseOrderer
{
    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase =>
        testCases.OrderBy(t => t.TestMethod.Method.Name == nameof(OnnxConformanceTests.Summary) ? 1 : 0)
            .ThenBy(t => t.DisplayName, StringComparer.Ordinal);
}
