using Spectre.Console;
using System.CommandLine;
using VulkanCnn.Training;
using VulkanCnn.Training.Data;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Cli.Commands;

/// <summary><c>vkcnn eval CHECKPOINT [--dataset fashion-mnist|DIR] [--limit N]</c>: test accuracy and confusion matrix of a training
/// checkpoint.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var checkpoint = new Argument<FileInfo>("checkpoint") { Description = "A checkpoint written by vkcnn train." };
        var dataset = new Option<string>("--dataset")
        {
            Description = "fashion-mnist, or a folder holding its IDX files.",
            DefaultValueFactory = _ => "fashion-mnist"
        };
        var limit = new Option<int?>("--limit") { Description = "Evaluate the first N test images (default: all)." };
        var onnx = new Option<FileInfo?>("--onnx") { Description = "Also export the checkpoint's model to this ONNX file." };
        var command = new Command("eval", "Evaluate a training checkpoint on the test set.") { checkpoint, dataset, limit, onnx };
        command.SetAction(result =>
        {
            var path = result.GetValue(checkpoint)!.FullName;
            var (model, info) = Checkpoint.LoadModel(path);
            string folder = result.GetValue(dataset) is "fashion-mnist" ? FashionMnist.DefaultDirectory : result.GetValue(dataset)!;
            var test = FashionMnist.Load(train: false, folder, result.GetValue(limit));
            if (result.GetValue(onnx) is { } target)
            {
                VulkanCnn.Onnx.OnnxExporter.Save(VulkanCnn.Nn.Modules.ToGraph(model, new TensorShape(info.InputShape), info.Model),
                    target.FullName);
                AnsiConsole.MarkupLine($"ONNX export: {Markup.Escape(target.FullName)}");
            }
            using var gpu = GpuDevice.Create(GlobalOptions.DeviceOptions(result));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var evaluation = Evaluator.Evaluate(gpu, model, test);
            var table = new Table().Border(TableBorder.Rounded).Title($"confusion matrix ({evaluation.Count} images)")
                .AddColumn("true \\ predicted");
            foreach (var l in info.Labels) table.AddColumn(new TableColumn(Markup.Escape(l)).RightAligned());
            for (int t = 0; t < info.Labels.Count; t++)
                table.AddRow([Markup.Escape(info.Labels[t]),
                    .. Enumerable.Range(0, info.Labels.Count).Select(p => p == t ? $"[green]{evaluation.Confusion[t, p]}[/]"
                        : evaluation.Confusion[t, p].ToString())]);
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"[bold]{info.Model}[/] epoch {info.Epoch}, step {info.Step}: test accuracy " +
                $"[bold]{evaluation.Accuracy:P2}[/] on {evaluation.Count} images " +
                $"({Markup.Escape(gpu.Info.Name)}, {clock.Elapsed.TotalSeconds:0.0} s)");
            return 0;
        });
        return command;
    }
}
