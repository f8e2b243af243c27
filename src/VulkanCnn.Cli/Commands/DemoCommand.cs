using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using VulkanCnn.Ops;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Cli.Commands;

/// <summary>
/// <c>vkcnn demo</c>: picks the best device, runs a small smoke computation (add, relu, matmul),
/// checks it against the CPU and prints timings. The live viewer replaces it later.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var size = new Option<int>("--size") { Description = "Matrix size of the matmul smoke test.", DefaultValueFactory = _ => 128 };
        var command = new Command("demo", "Run a small smoke computation on the chosen device and time it.") { size };
        command.SetAction(result => Run(GlobalOptions.DeviceOptions(result), result.GetValue(size)));
        return command;
    }

    private static int Run(GpuDeviceOptions options, int n)
    {
        if (n is < 1 or > 2048) throw new ArgumentOutOfRangeException("--size", n, "--size must be between 1 and 2048.");
        var clock = Stopwatch.StartNew();
        using var gpu = GpuDevice.Create(options);
        var created = clock.Elapsed;
        AnsiConsole.MarkupLine($"Device: [bold]{Markup.Escape(gpu.Info.Name)}[/] ({gpu.Info.Type}, {Markup.Escape(gpu.Info.DriverName)}, Vulkan {gpu.Info.ApiVersion}), created in {created.TotalMilliseconds:0} ms");
        AnsiConsole.MarkupLine($"Tensors: {(gpu.TensorsAreHostVisible ? "mapped device-local memory" : "staging transfers")}; workgroup {gpu.DefaultWorkgroupSize}, subgroup {gpu.Info.Subgroup.Size}");

        var rng = new Random(42);
        float[] a = Enumerable.Range(0, n * n).Select(_ => rng.NextSingle() * 2 - 1).ToArray();
        float[] b = Enumerable.Range(0, n * n).Select(_ => rng.NextSingle() * 2 - 1).ToArray();
        using var ta = Tensor.FromData(gpu, [n, n], a, "a");
        using var tb = Tensor.FromData(gpu, [n, n], b, "b");
        using var sum = Tensor.Create(gpu, [n, n], "a+b");
        using var relu = Tensor.Create(gpu, [n, n], "relu(a+b)");
        using var product = Tensor.Create(gpu, [n, n], "relu(a+b)·b");

        using var add = BinaryOp.Bind(BinaryOpKind.Add, ta, tb, sum);
        using var act = Relu.Bind(sum, relu);
        using var mm = MatMul.Bind(relu, tb, product);
        using var rec = new CommandRecording(gpu, "demo");
        rec.Timestamp("start");
        rec.Dispatch(add); rec.Timestamp("add");
        rec.Dispatch(act); rec.Timestamp("relu");
        rec.Dispatch(mm); rec.Timestamp("matmul");
        rec.Finish();
        rec.Run(); // warm-up: first dispatch of a pipeline is slower
        var wall = Stopwatch.StartNew();
        rec.Run(TimeSpan.FromSeconds(60));
        wall.Stop();

        float[] gpuResult = product.ToArray();
        float[] cpuResult = Reference(a, b, n);
        double maxError = gpuResult.Zip(cpuResult, (g, c) => Math.Abs(g - c)).Max();

        var table = new Table().Border(TableBorder.Rounded).AddColumn("Step").AddColumn("GPU time (ms)");
        var ts = rec.ReadTimestamps();
        for (int i = 1; i < ts.Count; i++) table.AddRow(ts[i].Label, $"{ts[i].Milliseconds - ts[i - 1].Milliseconds:0.000}");
        table.AddRow("[bold]submit + wait (wall)[/]", $"{wall.Elapsed.TotalMilliseconds:0.000}");
        AnsiConsole.Write(table);
        double gflops = 2.0 * n * n * n / ((ts[^1].Milliseconds - ts[^2].Milliseconds) / 1e3) / 1e9;
        AnsiConsole.MarkupLine($"matmul {n}x{n}x{n}: {gflops:0.00} GFLOP/s; max |GPU - CPU| = {maxError:E2} {(maxError < 1e-3 ? "[green]OK[/]" : "[red]MISMATCH[/]")}");
        foreach (var p in gpu.Pipelines)
            AnsiConsole.MarkupLine($"pipeline {p.Description.Shader}: {p.CreationTime.TotalMilliseconds:0.0} ms ({p.CacheStatus})");
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
