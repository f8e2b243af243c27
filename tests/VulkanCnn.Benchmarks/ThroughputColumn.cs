using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using System.Reflection;

namespace VulkanCnn.Benchmarks;

/// <summary>
/// Work per operation, declared by a benchmark class as
/// <c>public static (double Amount, string Unit) Work(BenchmarkCase c)</c>, e.g. FLOP or bytes.
/// </summary>
public static class WorkOf
{
    public static (double Amount, string Unit)? Get(BenchmarkCase c)
    {
        var method = c.Descriptor.Type.GetMethod("Work", BindingFlags.Public | BindingFlags.Static);
        return method?.Invoke(null, [c]) as (double, string)?;
    }

    public static T Param<T>(BenchmarkCase c, string name) => (T)c.Parameters[name];
}

/// <summary>Adds "Throughput" (GFLOP/s, GB/s, dispatch/s …) computed from the mean time.</summary>
public sealed class ThroughputColumn : IColumn
{
    public string Id => nameof(ThroughputColumn);
    public string ColumnName => "Throughput";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => false;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Work per operation divided by the mean time";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        Compute(summary, benchmarkCase) is { } t ? $"{t.Value:0.###} {t.Unit}" : "-";

    public static (double Value, string Unit)? Compute(Summary summary, BenchmarkCase c)
    {
        double? meanNs = summary[c]?.ResultStatistics?.Mean;
        if (meanNs is not > 0 || WorkOf.Get(c) is not { } work) return null;
        double perSecond = work.Amount / (meanNs.Value * 1e-9);
        return work.Unit switch
        {
            "FLOP" => (perSecond / 1e9, "GFLOP/s"),
            "B" => (perSecond / 1e9, "GB/s"),
            _ => (perSecond, work.Unit + "/s"),
        };
    }
}

/// <summary>"Of peak": a case's throughput over that of the peak case in the same summary (a benchmark class marks it with
/// <c>public static bool IsPeak(BenchmarkCase c)</c>), so a network's figure comes with the device's ceiling measured in
/// the same run.</summary>
public sealed class PeakRatioColumn : IColumn
{
    public string Id => nameof(PeakRatioColumn);
    public string ColumnName => "Of peak";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 1;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Throughput over the same run's peak case (the peak-FMA shader)";
    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => IsPeak(c));
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var peak = summary.BenchmarksCases.FirstOrDefault(c => IsPeak(c));
        if (peak is null || IsPeak(benchmarkCase)) return "-";
        return ThroughputColumn.Compute(summary, benchmarkCase) is { } t && ThroughputColumn.Compute(summary, peak) is { } p
            && t.Unit == p.Unit && p.Value > 0 ? $"{t.Value / p.Value:P1}" : "-";
    }

    private static bool IsPeak(BenchmarkCase c) =>
        c.Descriptor.Type.GetMethod("IsPeak", BindingFlags.Public | BindingFlags.Static)?.Invoke(null, [c]) is true;
}
