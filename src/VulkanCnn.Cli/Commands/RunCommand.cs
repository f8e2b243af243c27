using Spectre.Console;
using System.CommandLine;
using VulkanCnn.Compiler;
using VulkanCnn.Imaging;
using VulkanCnn.Ir;
using VulkanCnn.Onnx;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Cli.Commands;

/// <summary><c>vkcnn run MODEL.onnx --input x.npy | --image photo.jpg --output y.npy [--top 5 --labels labels.txt]</c>.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "An .onnx file." };
        var inputs = new ModelInputs();
        var output = new Option<FileInfo?>("--output")
        {
            Description = "Write the first output as .npy (other outputs get a _NAME suffix).",
        };
        var top = new Option<int>("--top") { Description = "Print the top-k classes of the first output.", DefaultValueFactory = _ => 0 };
        var labels = new Option<FileInfo?>("--labels") { Description = "One class name per line, for --top." };
        var verbose = new Option<bool>("--verbose")
        {
            Description = "Print the time to the first result phase by phase (process start, import, device, compile, first run).",
        };
        var command = new Command("run", "Run an ONNX model on .npy inputs or an image.") { model, output, top, labels, verbose };
        inputs.AddTo(command);
        command.SetAction(result =>
        {
            var startup = new StartupClock();
            var path = result.GetValue(model)!;
            var header = startup.Time("model header", () => OnnxImporter.Inspect(path.FullName));
            var given = startup.Time("inputs", () => inputs.Read(result, header.Inputs.Count > 0 ? header.Inputs[0].Name : "input"));
            if (given.Count == 0) throw new ArgumentException("Give the model an input: --input FILE.npy or --image PHOTO.");
            var graph = startup.Time("import", () => OnnxImporter.Load(path.FullName, new OnnxImportOptions
            {
                InputShapes = given.ToDictionary(p => p.Key, p => p.Value.Shape.Dimensions.ToArray()),
            }));
            using var gpu = startup.Time("Vulkan instance and device", () => GpuDevice.Create(GlobalOptions.DeviceOptions(result)));
            using var session = startup.Compile(() => gpu.Compile(graph, given[graph.Inputs[0].Name].Shape, GlobalOptions.Session(result)));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var outputs = startup.Time("first run", () => session.Run(given));
            AnsiConsole.MarkupLine($"Ran [bold]{Markup.Escape(path.Name)}[/] on {Markup.Escape(gpu.Info.Name)} in " +
                $"{clock.Elapsed.TotalMilliseconds:0.0} ms (first run, includes warm-up)");
            if (result.GetValue(verbose)) startup.Write();
            int index = 0;
            foreach (var (name, value) in outputs)
            {
                AnsiConsole.MarkupLine($"output [bold]{Markup.Escape(name)}[/] {Markup.Escape(value.Shape.ToString())}");
                if (result.GetValue(output) is { } file)
                {
                    string target = index == 0 ? file.FullName : Path.ChangeExtension(file.FullName, null) + "_" + Sanitize(name) + ".npy";
                    NpyFile.WriteFloat32(target, value.Floats!, value.Shape.Dimensions);
                    AnsiConsole.MarkupLine($"  written to {Markup.Escape(target)}");
                }
                if (index == 0 && result.GetValue(top) is > 0 and var k) PrintTop(value, k, result.GetValue(labels));
                index++;
            }
            return 0;
        });
        return command;
    }

    private static void PrintTop(HostTensor scores, int k, FileInfo? labelFile)
    {
        var labels = labelFile is null ? null : File.ReadAllLines(labelFile.FullName);
        // One row per sample: everything after the batch dimension is the class axis ([N, C] or [N, C, 1, 1]).
        int rows = scores.Shape.Rank > 1 ? scores.Shape[0] : 1;
        int classes = (int)(scores.Shape.ElementCount / rows);
        for (int r = 0; r < rows; r++)
        {
            var row = scores.Floats!.AsSpan(r * classes, classes).ToArray();
            double max = row.Max();
            var exp = row.Select(v => Math.Exp(v - max)).ToArray();
            double sum = exp.Sum();
            var table = new Table().Border(TableBorder.Rounded).Title(rows > 1 ? $"sample {r}" : "top classes")
                .AddColumn("class").AddColumn("score").AddColumn("softmax");
            foreach (int c in Enumerable.Range(0, classes).OrderByDescending(c => row[c]).Take(k))
                table.AddRow(Markup.Escape(labels is not null && c < labels.Length ? $"{c} {labels[c]}" : c.ToString()), $"{row[c]:0.0000}",
                    $"{exp[c] / sum:P2}");
            AnsiConsole.Write(table);
        }
    }

    private static string Sanitize(string name) => new(name.Select(ch => char.IsLetterOrDigit(ch) ? ch : '_').ToArray());
}
