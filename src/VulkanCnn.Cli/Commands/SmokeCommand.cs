using Spectre.Console;
using System.CommandLine;
using System.Diagnostics;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;
using IrGraph = VulkanCnn.Ir.Graph;

namespace VulkanCnn.Cli.Commands;

/// <summary>
/// <c>vkcnn smoke</c>: picks the best device, compiles a small graph (add, relu, matmul), runs it,
/// checks it against the CPU and prints per-layer timings: a quick check that a Vulkan device works.
/// </summary>
internal static class SmokeCommand
{
    public static Command Create()
    {
        var size = new Option<int>("--size") { Description = "Matrix size of the smoke computation.", DefaultValueFactory = _ => 128 };
        var command = new Command("smoke", "Run a small smoke computation on the chosen device and time it.") { size };
        command.SetAction(result => Run(GlobalOptions.DeviceOptions(result), result.GetValue(size)));
        return command;
    }

    private static int Run(GpuDeviceOptions options, int n)
    {
        if (n is < 1 or > 2048) throw new ArgumentOutOfRangeException("--size", n, "--size must be between 1 and 2048.");
        var clock = Stopwatch.StartNew();
        using var gpu = GpuDevice.Create(options);
        AnsiConsole.MarkupLine($"Device: [bold]{Markup.Escape(gpu.Info.Name)}[/] ({gpu.Info.Type}, " +
            $"{Markup.Escape(gpu.Info.DriverName)}, Vulkan {gpu.Info.ApiVersion}), created in {clock.Elapsed.TotalMilliseconds:0} ms");
        AnsiConsole.MarkupLine($"Tensors: {(gpu.TensorsAreHostVisible ? "mapped device-local memory" : "staging transfers")}; workgroup " +
            $"{gpu.DefaultWorkgroupSize}, subgroup {gpu.Info.Subgroup.Size}");

        var rng = new Random(42);
        float[] a = Enumerable.Range(0, n * n).Select(_ => rng.NextSingle() * 2 - 1).ToArray();
        float[] b = Enumerable.Range(0, n * n).Select(_ => rng.NextSingle() * 2 - 1).ToArray();
        var graph = new IrGraph { Name = "demo" };
        graph.Inputs.Add(new ValueInfo("a", [n, n]));
        graph.Initializers["b"] = HostTensor.FromFloats([n, n], b);
        graph.Nodes.Add(new Node("Add", "add", ["a", "b"], ["sum"]));
        graph.Nodes.Add(new Node("Relu", "relu", ["sum"], ["r"]));
        graph.Nodes.Add(new Node("MatMul", "matmul", ["r", "b"], ["y"]));
        graph.Outputs.Add("y");

        clock.Restart();
        using var session = gpu.Compile(graph);
        var compiled = clock.Elapsed;
        var output = new float[n * n];
        session.Run(a, output); // warm-up: the first dispatch of a pipeline is slower
        clock.Restart();
        session.Run(a, output);
        var wall = clock.Elapsed;

        float[] expected = Reference(a, b, n);
        double maxError = output.Zip(expected, (g, c) => Math.Abs(g - c)).Max();
        var profile = session.Profile(runs: 3);
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("Layer").AddColumn("Kernels").AddColumn("GPU time (ms)").AddColumn("GFLOP/s");
        foreach (var l in profile.Layers)
            table.AddRow(Markup.Escape(l.Name), Markup.Escape(l.Kernels), $"{l.Milliseconds:0.000}", l.GflopPerSecond is { } g ? $"{g:0.00}"
                : "-");
        table.AddRow("[bold]run (wall, incl. host copies)[/]", "", $"{wall.TotalMilliseconds:0.000}", "");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"compiled in {compiled.TotalMilliseconds:0} ms ({session.Passes.ActivationsFused} activation fused); " +
            $"max |GPU - CPU| = {maxError:E2} {(maxError < 1e-3 ? "[green]OK[/]" : "[red]MISMATCH[/]")}");
        return maxError < 1e-3 ? 0 : 2;
    }

    private static float[] Reference(float[] a, float[] b, int n)
    {
        var r = new float[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++) s += Math.Max(0, a[i * n + k] + b[i * n + k]) * b[k * n + j];
                r[i * n + j] = (float)s;
            }
        return r;
    }
}
