using System.Text;

namespace VulkanCnn.Onnx;

/// <summary>A graph input or output as the file declares it: dims are numbers, symbolic names, or "?".</summary>
public sealed record OnnxValueInfo(string Name, string ElementType, IReadOnlyList<string> Dims)
{
    public override string ToString() => $"{Name}: {ElementType} [{string.Join(", ", Dims)}]";
}

/// <summary>What <see cref="OnnxImporter.Inspect"/> reads from a model without importing it.</summary>
public sealed record OnnxModelInfo(
    string Path,
    long IrVersion,
    string Producer,
    string GraphName,
    IReadOnlyDictionary<string, long> OpsetImports,
    IReadOnlyList<OnnxValueInfo> Inputs,
    IReadOnlyList<OnnxValueInfo> Outputs,
    IReadOnlyDictionary<string, int> OpHistogram,
    long ParameterCount,
    int InitializerCount,
    IReadOnlyList<string> UnsupportedOps)
{
    /// <summary>A plain-text report (what <c>vkcnn info</c> prints).</summary>
    public override string ToString()
    {
        var s = new StringBuilder();
        s.AppendLine($"model     {Path}");
        s.AppendLine($"producer  {(Producer.Length > 0 ? Producer : "(none)")}, IR version {IrVersion}, graph '{GraphName}'");
        s.AppendLine($"opsets    {string.Join(", ", OpsetImports.Select(p => $"{(p.Key.Length > 0 ? p.Key : "ai.onnx")} {p.Value}"))}");
        s.AppendLine($"params    {ParameterCount:N0} in {InitializerCount} initializers");
        foreach (var i in Inputs) s.AppendLine($"input     {i}");
        foreach (var o in Outputs) s.AppendLine($"output    {o}");
        s.AppendLine($"nodes     {OpHistogram.Values.Sum()} ({OpHistogram.Count} op types)");
        foreach (var (op, count) in OpHistogram.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal))
            s.AppendLine($"  {op,-28} {count,6}{(UnsupportedOps.Contains(op) ? "  (not supported)" : "")}");
        return s.ToString();
    }
}
