using Spectre.Console;
using System.CommandLine;
using VulkanCnn.Compiler;
using VulkanCnn.Onnx;
using VulkanCnn.Ops;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Cli.Commands;

/// <summary>
/// <c>vkcnn tune MODEL.onnx [--batch N]</c>: compiles the model with <see cref="TuningMode.Measure"/>, which times every
/// applicable kernel variant of each distinct layer configuration on the device, checks it against the reference
/// variant and remembers the fastest next to the pipeline cache; prints per layer the variants tried, their times and
/// the winner. A second run reads the choices back without measuring.
/// </summary>
internal static class TuneCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "An .onnx file." };
        var batch = new Option<int?>("--batch") { Description = "Batch size (default: the model's)." };
        var command = new Command("tune",
            "Measure the kernel variants of a model's layers on this device and remember the fastest.") { model, batch };
        command.SetAction(result =>
        {
            var file = result.GetValue(model)!;
            var graph = OnnxImporter.Load(file.FullName, new OnnxImportOptions { BatchSize = result.GetValue(batch) });
            using var gpu = GpuDevice.Create(GlobalOptions.DeviceOptions(result));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var session = gpu.Compile(graph, options: new SessionOptions { Tuning = Tuning.Measure });
            var report = session.TuningReport!;
            var table = new Table().Border(TableBorder.Rounded).Title($"{Markup.Escape(file.Name)} on {Markup.Escape(gpu.Info.Name)}")
                .AddColumn("layer").AddColumn("op").AddColumn("variants (GPU ms)").AddColumn("winner").AddColumn("source");
            foreach (var d in report.Decisions)
                table.AddRow(Markup.Escape(d.Node), Markup.Escape(d.OpType),
                    Markup.Escape(string.Join("  ",
                        d.Trials.Select(t => t.Milliseconds is { } ms ? $"{t.Variant} {ms:0.000}"
                            : $"{t.Variant} excluded: {t.Excluded}"))),
                    $"[bold]{Markup.Escape(d.Winner)}[/]", d.FromStore ? "remembered" : "measured");
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"{report.Decisions.Count} layers with variants, {report.Measured} measured now, " +
                $"{report.Decisions.Count - report.Measured} remembered; compiled in {clock.Elapsed.TotalSeconds:0.0} s");
            AnsiConsole.MarkupLine(report.FilePath is { } path
                ? $"choices in {Markup.Escape(path)} (file was {report.File.ToString().ToLowerInvariant()})"
                : "the pipeline cache is off, so the choices were not saved");
            return 0;
        });
        return command;
    }
}
