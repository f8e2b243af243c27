using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Spectre.Console;
using System.CommandLine;
using System.Diagnostics;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Onnx;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Cli.Commands;

/// <summary>
/// <c>vkcnn bench MODEL.onnx [--batch N] [--warmup N] [--iterations N] [--compare-ort]</c>: latency
/// percentiles, throughput and the top layers by GPU time; with <c>--compare-ort</c> ONNX Runtime
/// (CPU, threads = cores) runs the same model and input in the same process, for a ratio and the
/// largest output difference.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "An .onnx file." };
        var batch = new Option<int?>("--batch") { Description = "Batch size (default: the model's)." };
        var warmup = new Option<int>("--warmup") { DefaultValueFactory = _ => 3 };
        var iterations = new Option<int>("--iterations") { DefaultValueFactory = _ => 20 };
        var compare = new Option<bool>("--compare-ort")
        {
            Description = "Also run ONNX Runtime (CPU) on the same input and report the " +
            "ratio."
        };
        var inputs = new ModelInputs();
        var command = new Command("bench", "Measure a model's latency on the GPU (and against ONNX Runtime).") { model, batch, warmup,
            iterations, compare };
        inputs.AddTo(command);
        command.SetAction(result =>
            Run(result, result.GetValue(model)!, result.GetValue(batch), result.GetValue(warmup), result.GetValue(iterations),
            result.GetValue(compare), inputs));
        return command;
    }

    private static int Run(ParseResult result, FileInfo file, int? batch, int warmup, int iterations, bool compareOrt,
        ModelInputs inputSpec)
    {
        if (iterations < 1 || warmup < 0) throw new ArgumentOutOfRangeException("--iterations",
            "--iterations must be ≥ 1 and --warmup ≥ 0.");
        var startup = new StartupClock();
        var info = OnnxImporter.Inspect(file.FullName);
        var given = inputSpec.Read(result, info.Inputs.Count > 0 ? info.Inputs[0].Name : "input");
        var graph = startup.Time("import", () => OnnxImporter.Load(file.FullName, new OnnxImportOptions
        {
            BatchSize = batch,
            InputShapes = given.ToDictionary(p => p.Key, p => p.Value.Shape.Dimensions.ToArray()),
        }));
        using var gpu = startup.Time("Vulkan instance and device", () => GpuDevice.Create(GlobalOptions.DeviceOptions(result)));
        // Seeded random inputs in [0, 1) for whatever was not given; an input no buffer of this device can hold is refused by name
        // before anything is allocated.
        var rng = new Random(1);
        foreach (var input in graph.Inputs)
        {
            ulong bytes = (ulong)input.Shape.ElementCount * sizeof(float), limit = gpu.Info.Limits.MaxStorageBufferRange;
            if (bytes > limit || input.Shape.ElementCount > Array.MaxLength)
                throw new TensorTooLargeException($"{input.Name} {input.Shape}", bytes, limit, gpu.Info.Name);
            if (!given.ContainsKey(input.Name))
                given[input.Name] = HostTensor.FromFloats(input.Shape,
                    Enumerable.Range(0, (int)input.Shape.ElementCount).Select(_ => rng.NextSingle()).ToArray());
        }

        using var session = startup.Compile(() => gpu.Compile(graph, given[graph.Inputs[0].Name].Shape, GlobalOptions.Session(result)));
        startup.Time("first run", () => session.Run(given));
        startup.Write();
        var ours = Measure(() => session.Run(given), warmup, iterations, out var ourOutputs);
        int n = given[graph.Inputs[0].Name].Shape[0];
        var table = new Table().Border(TableBorder.Rounded).Title($"{Markup.Escape(file.Name)}, batch {n}")
            .AddColumn("runner").AddColumn("device").AddColumn("p50 ms").AddColumn("p90 ms").AddColumn("p99 ms").AddColumn("images/s");
        table.AddRow("VulkanCnn", Markup.Escape(gpu.Info.Name), $"{ours.P50:0.00}", $"{ours.P90:0.00}", $"{ours.P99:0.00}",
            $"{n * 1000 / ours.P50:0.0}");

        if (compareOrt)
        {
            using var options = new Microsoft.ML.OnnxRuntime.SessionOptions
            {
                IntraOpNumThreads = Environment.ProcessorCount,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL
            };
            // Measured one after the other, each alone: our runs end before ORT's session (and its thread pool) exists, and ORT's
            // workers do not spin between runs, so neither runner's threads take the other's cores.
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            using var ort = new InferenceSession(file.FullName, options);
            var feeds = ort.InputMetadata.Keys.Select(name => NamedOnnxValue.CreateFromTensor(name,
                new DenseTensor<float>(given[name].Floats!, given[name].Shape.Dimensions.ToArray()))).ToList();
            Dictionary<string, float[]> ortOutputs = new();
            var theirs = Measure(() =>
            {
                using var r = ort.Run(feeds);
                return r.ToDictionary(v => v.Name, v =>
                    HostTensor.FromFloats(new TensorShape(v.AsTensor<float>().Dimensions.ToArray()), v.AsTensor<float>().ToArray()));
            }, warmup, iterations, out var ortResult);
            table.AddRow("ONNX Runtime 1.31.1", $"CPU, {Environment.ProcessorCount} threads, no spinning", $"{theirs.P50:0.00}",
                $"{theirs.P90:0.00}",
                $"{theirs.P99:0.00}", $"{n * 1000 / theirs.P50:0.0}");
            AnsiConsole.Write(table);
            double worst = 0, scale = 1;
            foreach (var (name, value) in ortResult)
                if (ourOutputs.TryGetValue(name, out var mine))
                    for (int i = 0; i < value.Floats!.Length; i++)
                    {
                        worst = Math.Max(worst, Math.Abs(value.Floats[i] - mine.Floats![i]));
                        scale = Math.Max(scale, Math.Abs(value.Floats[i]));
                    }
            AnsiConsole.MarkupLine($"VulkanCnn / ONNX Runtime latency (p50): [bold]{ours.P50 / theirs.P50:0.00}x[/]; max |ours - ORT| = " +
                $"{worst:E2} ({worst / scale:E2} of max|ORT|)");
        }
        else AnsiConsole.Write(table);

        var profile = session.Profile(runs: Math.Max(1, Math.Min(iterations, 5)));
        ProfileTable.Write(profile, "top layers by GPU time", 10);
        var m = session.Memory;
        AnsiConsole.MarkupLine($"intermediate memory {m.PeakIntermediateBytes / 1048576.0:0.0} MiB (one buffer per value: " +
            $"{m.NaiveIntermediateBytes / 1048576.0:0.0} MiB), weights {m.WeightBytes / 1048576.0:0.0} MiB");
        AnsiConsole.MarkupLine(Markup.Escape($"precision {result.GetValue(GlobalOptions.Precision)}: {session.Fp16Nodes} layers in fp16, " +
            $"{session.StorageFallbacks.Count} kept fp32" + (session.Fp32Reason is { } why ? $" (all fp32: {why})" : "")));
        return 0;
    }

    private readonly record struct Latency(double P50, double P90, double P99);

    private static Latency Measure(Func<IReadOnlyDictionary<string, HostTensor>> run, int warmup, int iterations,
        out IReadOnlyDictionary<string, HostTensor> last)
    {
        last = new Dictionary<string, HostTensor>();
        for (int i = 0; i < warmup; i++) last = run();
        var times = new double[iterations];
        for (int i = 0; i < iterations; i++)
        {
            var clock = Stopwatch.StartNew();
            last = run();
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        double P(double q) => times[Math.Min(times.Length - 1, (int)Math.Ceiling(q * times.Length) - 1)];
        return new Latency(P(0.5), P(0.9), P(0.99));
    }
}
