using Spectre.Console;
using System.CommandLine;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Onnx;

namespace VulkanCnn.Cli.Commands;

/// <summary><c>vkcnn info MODEL.onnx</c>: inputs/outputs with shapes, op histogram, parameter count, FLOPs, unsupported ops.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "An .onnx file." };
        var command = new Command("info", "Describe an ONNX model: inputs, outputs, operators, parameters, FLOPs.") { model };
        command.SetAction(result => Run(result.GetValue(model)!));
        return command;
    }

    private static int Run(FileInfo file)
    {
        var info = OnnxImporter.Inspect(file.FullName);
        var head = new Table().Border(TableBorder.Rounded).AddColumn("").AddColumn("");
        head.AddRow("model", Markup.Escape(info.Path));
        head.AddRow("producer", Markup.Escape($"{(info.Producer.Length > 0 ? info.Producer : "(none)")}, IR version {info.IrVersion}"));
        head.AddRow("opsets",
            Markup.Escape(string.Join(", ", info.OpsetImports.Select(p => $"{(p.Key.Length > 0 ? p.Key : "ai.onnx")} {p.Value}"))));
        head.AddRow("parameters", $"{info.ParameterCount:N0} in {info.InitializerCount} initializers");
        foreach (var i in info.Inputs) head.AddRow("input", Markup.Escape(i.ToString()));
        foreach (var o in info.Outputs) head.AddRow("output", Markup.Escape(o.ToString()));
        if (info.UnsupportedOps.Count == 0)
        {
            try
            {
                var graph = OnnxImporter.Load(file.FullName);
                double flops = OpCost.TotalFlops(graph);
                head.AddRow("FLOPs", $"{flops / 1e9:0.###} GFLOP (conv and matmul layers, declared input shapes)");
                head.AddRow("largest tensor", Markup.Escape(LargestTensor(graph)));
            }
            catch (GraphException e) { head.AddRow("FLOPs", "[yellow]" + Markup.Escape(e.Message) + "[/]"); }
        }
        else head.AddRow("[red]unsupported[/]", Markup.Escape(string.Join(", ", info.UnsupportedOps)));
        AnsiConsole.Write(head);
        var ops = new Table().Border(TableBorder.Rounded).AddColumn("operator").AddColumn(new TableColumn("nodes").RightAligned());
        foreach (var (op, count) in info.OpHistogram.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal))
            ops.AddRow(info.UnsupportedOps.Contains(op) ? $"[red]{Markup.Escape(op)} (not supported)[/]" : Markup.Escape(op),
                count.ToString());
        AnsiConsole.Write(ops);
        return info.UnsupportedOps.Count == 0 ? 0 : 2;
    }

    /// <summary>The value or weight with the most bytes as float32 (at the declared input shapes): what a device's storage-buffer
    /// binding limit is measured against.</summary>
    internal static string LargestTensor(Graph graph)
    {
        var shapes = ShapeInference.Infer(graph);
        var (name, shape) = shapes.MaxBy(p => p.Value.ElementCount);
        string kind = graph.Initializers.ContainsKey(name) ? "weight" : graph.Inputs.Any(i => i.Name == name) ? "input" : "activation";
        return $"{name} {shape}, {shape.ElementCount * 4 / 1048576.0:0.0} MiB as float32 ({kind})";
    }
}
