using System.CommandLine;
using System.Text.RegularExpressions;
using VulkanCnn.Cli.Commands;
using VulkanCnn.Compiler;
using VulkanCnn.Imaging;
using VulkanCnn.Ir;
using VulkanCnn.Nn;
using VulkanCnn.Onnx;
using VulkanCnn.Tests.Imaging;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Tests.Onnx;
using IrGraph = VulkanCnn.Ir.Graph;

namespace VulkanCnn.Tests.Cli;

/// <summary>
/// vkcnn info / run / bench on small models exported with <see cref="OnnxExporter"/>, invoked in
/// process. Exceptions propagate (Program.cs prints them as "vkcnn: Type: message" with exit code 1),
/// so a failure is asserted as its typed exception.
/// </summary>
public sealed class OnnxCliTests(GpuFixture gpu) : GpuTest(gpu)
{
    private static (int Code, string Output) Invoke(Command command, params string[] args) =>
        CliInvoker.Invoke(command, args, throwExceptions: true, plainText: true);

    /// <summary>Conv-BN-ReLU-pool-Conv-ReLU-GAP-Linear: any image size, 5 classes (a few thousand MACs per pixel row).</summary>
    private static IrGraph Tiny(int[] shape)
    {
        Init.ManualSeed(3);
        var model = new Sequential(Layers.Conv2d(3, 4, 3, padding: 1), Layers.BatchNorm2d(4), Layers.ReLU(), Layers.MaxPool2d(2),
            Layers.Conv2d(4, 6, 3, padding: 1), Layers.ReLU(), Layers.AdaptiveAvgPool2d(), Layers.Flatten(), Layers.Linear(6, 5));
        return model.ToGraph(new TensorShape(shape), "tiny");
    }

    private static string Export(IrGraph graph)
    {
        string path = Path.Combine(OnnxModels.TempFolder(), graph.Name + ".onnx");
        OnnxExporter.Save(graph, path);
        return path;
    }

    private static IEnumerable<string> TableRows(string output, string firstCell) =>
        output.Split('\n').Where(l => Regex.IsMatch(l, $@"^\s*│\s*{Regex.Escape(firstCell)}\s*│"));

    [Fact]
    public void Info_prints_the_interface_op_histogram_parameters_and_flops()
    {
        Init.ManualSeed(4);
        var model = new Sequential(Layers.Conv2d(3, 16, 3, padding: 1), Layers.BatchNorm2d(16), Layers.ReLU(),
            Layers.Conv2d(16, 32, 3, stride: 2, padding: 1), Layers.ReLU(),
            Layers.AdaptiveAvgPool2d(), Layers.Flatten(), Layers.Linear(32, 10));
        var graph = model.ToGraph(new TensorShape(1, 3, 100, 100), "info");
        string path = Export(graph);

        var (code, output) = Invoke(InfoCommand.Create(), "info", path);
        Assert.True(code == 0, output);
        Assert.Contains("input: FLOAT [1, 3, 100, 100]", output);
        Assert.Contains($"{graph.Outputs[0]}: FLOAT [1, 10]", output);
        Assert.Contains("ai.onnx 17", output);
        Assert.Contains("VulkanCnn", output);
        long parameters = 16 * 27 + 16 + 4 * 16 + 32 * 16 * 9 + 32 + 32 * 10 + 10;
        Assert.Contains($"{parameters:N0} in 10 initializers", output);
        // 2 FLOPs per MAC: conv 100x100x16 outputs of 27 MACs, conv 50x50x32 of 144, fc 10 of 32.
        double flops = 2.0 * (100 * 100 * 16 * 27 + 50 * 50 * 32 * 144 + 10 * 32);
        Assert.Contains($"{flops / 1e9:0.###} GFLOP", output);
        // The first conv's output (and the BN and Relu after it): 16·100·100 floats = 0.61 MiB.
        Assert.Contains("[1, 16, 100, 100], 0.6 MiB as float32 (activation)", output);
        Assert.Single(TableRows(output, "Conv"), row => Regex.IsMatch(row, @"│\s*2\s*│"));
        Assert.Single(TableRows(output, "Relu"), row => Regex.IsMatch(row, @"│\s*2\s*│"));
        Assert.Single(TableRows(output, "Gemm"), row => Regex.IsMatch(row, @"│\s*1\s*│"));
        Assert.DoesNotContain("unsupported", output);
    }

    [Fact]
    public void Info_on_a_model_with_an_unsupported_op_exits_2_and_names_it()
    {
        var proto = OnnxModels.Model(18, OnnxModels.Net([OnnxModels.Input("x", 1L, 4L)], ["y"],
            [OnnxModels.Node("Mish", ["x"], ["m"]), OnnxModels.Node("Relu", ["m"], ["y"])]));
        var (code, output) = Invoke(InfoCommand.Create(), "info", OnnxModels.Save(proto));
        Assert.Equal(2, code);
        Assert.Contains("unsupported", output);
        Assert.Single(TableRows(output, "Mish (not supported)"));
        Assert.Single(TableRows(output, "Relu"));
    }

    [Fact]
    public void Run_reads_an_npy_input_and_writes_the_session_output_as_npy()
    {
        int[] shape = [2, 3, 12, 10]; // another batch and size than the model declares
        var graph = Tiny([1, 3, 16, 16]);
        string path = Export(graph);
        string folder = Path.GetDirectoryName(path)!;
        var x = Reference.Random(shape.Aggregate(1, (a, b) => a * b), 8);
        string input = Path.Combine(folder, "x.npy"), output = Path.Combine(folder, "y.npy");
        NpyFile.WriteFloat32(input, x, shape);

        var (code, printed) = Invoke(RunCommand.Create(), "run", path, "--input", input, "--output", output, "--validation",
            "--verbose");
        Assert.True(code == 0, printed);
        Assert.Contains($"output {graph.Outputs[0]} [2, 5]", printed);
        // --verbose: the time to the first result, phase by phase.
        foreach (var phase in new[] { "process start", "model header", "import", "Vulkan instance and device", "compile",
            "passes and shape inference", "buffers and weight upload", "kernels", "command recording", "first run", "total" })
            Assert.Contains(phase, printed);
        var written = NpyFile.ReadFloat32(output);
        Assert.Equal([2, 5], written.Shape);
        using var session = Device.Compile(graph, new TensorShape(shape));
        Tolerance.AssertClose(session.Run(x), written.Data, Tolerance.Op, "y.npy");
    }

    [Fact]
    public void Run_on_an_image_prints_the_top_3_classes_in_order()
    {
        var graph = Tiny([1, 3, 16, 16]);
        string path = Export(graph);
        string photo = ImagePreprocessorTests.Photo("chelsea.png");
        var (code, printed) = Invoke(RunCommand.Create(), "run", path, "--image", photo, "--size", "16", "--top", "3");
        Assert.True(code == 0, printed);
        Assert.Contains("top classes", printed);

        // The same preprocessing as the command (ImageNet mean/std, shorter side 16 * 256 / 224, centre crop 16).
        var image = ImagePreprocessor.Load(photo,
            ImagePreprocessOptions.ImageNet with { CropWidth = 16, CropHeight = 16, ResizeShorterSide = 18 });
        using var session = Device.Compile(graph);
        var scores = session.Run(image.Data);
        var expected = Enumerable.Range(0, scores.Length).OrderByDescending(c => scores[c]).Take(3).Select(c => c.ToString());
        var rows = printed.Split('\n').Select(l => Regex.Match(l, @"^\s*│\s*(\d+)\s*│")).Where(m => m.Success).Select(m =>
            m.Groups[1].Value).ToList();
        Assert.Equal(expected, rows);
    }

    [Fact]
    public void Run_with_a_missing_file_raises_an_exception_naming_it()
    {
        string folder = OnnxModels.TempFolder();
        string missingModel = Path.Combine(folder, "no-such-model.onnx");
        var e = Assert.Throws<OnnxImportException>(() => Invoke(RunCommand.Create(), "run", missingModel, "--input", "x.npy"));
        Assert.Contains(missingModel, e.Message);
        Assert.Contains("does not exist", e.Message);

        string model = Export(Tiny([1, 3, 8, 8]));
        string missingInput = Path.Combine(folder, "no-such-input.npy");
        var io = Assert.Throws<FileNotFoundException>(() => Invoke(RunCommand.Create(), "run", model, "--input", missingInput));
        Assert.Contains(missingInput, io.Message);
    }

    [Fact]
    public void Bench_compares_with_ONNX_Runtime()
    {
        string path = Export(Tiny([1, 3, 12, 12]));
        var (code, output) = Invoke(BenchCommand.Create(), "bench", path, "--iterations", "2", "--warmup", "1", "--compare-ort");
        Assert.True(code == 0, output);
        foreach (var column in new[] { "p50 ms", "p90 ms", "p99 ms", "images/s" }) Assert.Contains(column, output);
        Assert.Single(TableRows(output, "VulkanCnn"));
        Assert.Single(TableRows(output, "ONNX Runtime 1.31.1"));
        var ratio = Regex.Match(output,
            @"VulkanCnn / ONNX Runtime latency \(p50\): \S+x; max \|ours - ORT\| = \S+ \((\S+) of max\|ORT\|\)");
        Assert.True(ratio.Success, output);
        Assert.True(double.Parse(ratio.Groups[1].Value) <= Tolerance.Network, output);
        Assert.Contains("top layers by GPU time", output);
    }

    [Fact]
    public void Bench_with_fp16_storage_says_which_layers_are_half()
    {
        string path = Export(Tiny([1, 3, 12, 12]));
        var (code, output) = Invoke(BenchCommand.Create(), "bench", path, "--iterations", "1", "--warmup", "0", "--precision", "fp16");
        Assert.True(code == 0, output);
        Assert.Matches(@"precision Fp16: [1-9]\d* layers in fp16, 0 kept fp32", output);
        Assert.Contains("│ fp16", output); // the profile table's storage column
        (code, output) = Invoke(BenchCommand.Create(), "bench", path, "--iterations", "1", "--warmup", "0", "--precision", "auto");
        Assert.True(code == 0, output);
        Assert.Contains("precision Auto: 0 layers in fp16, 0 kept fp32 (all fp32: device", output);
    }

    /// <summary>An input whose element count no buffer or array can hold (1×3×100000×100000 = 3e10) is refused by bench, which
    /// makes random inputs, with the typed error naming it and its shape before anything is allocated.</summary>
    [Fact]
    public void An_input_too_large_for_any_buffer_is_refused_naming_it()
    {
        string path = Export(Tiny([1, 3, 100000, 100000]) is var g ? Renamed(g, "huge") : null!);
        var e = Assert.Throws<VulkanCnn.Vulkan.TensorTooLargeException>(() =>
            Invoke(BenchCommand.Create(), "bench", path, "--iterations", "1"));
        Assert.Contains("'input [1, 3, 100000, 100000]'", e.Message);
    }

    private static IrGraph Renamed(IrGraph g, string name)
    {
        g.Name = name;
        return g;
    }

    [Fact]
    public void Bench_runs_the_variants_it_is_told()
    {
        string path = Export(Tiny([1, 3, 12, 12]));
        var (code, output) = Invoke(BenchCommand.Create(), "bench", path, "--iterations", "1", "--warmup", "0",
            "--variant", "Conv=gemm_tiled");
        Assert.True(code == 0, output);
        Assert.Contains("gemm_tiled", output); // the profile's variant column
        var e = Assert.Throws<ArgumentException>(() => Invoke(BenchCommand.Create(), "bench", path, "--variant", "Conv"));
        Assert.Contains("--variant 'Conv'", e.Message);
    }

    [Fact]
    public void Tune_measures_the_variants_once_and_then_remembers_them()
    {
        string path = Export(Tiny([1, 3, 16, 16]));
        string cache = Directory.CreateTempSubdirectory("vkcnn-tune-cli-").FullName;
        try
        {
            var (code, output) = Invoke(TuneCommand.Create(), "tune", path, "--cache-dir", cache);
            Assert.True(code == 0, output);
            var rows = output.Split('\n').Where(l => l.Contains("│ Conv ")).ToList();
            Assert.Equal(2, rows.Count);
            Assert.All(rows, r => Assert.Matches(
                @"direct \d+\.\d+\s+gemm \d+\.\d+\s+winograd_f2x3 \d+\.\d+\s+winograd_f4x3 \d+\.\d+.*│ \w+\s+│ measured", r));
            Assert.Contains("4 layers with variants, 4 measured now, 0 remembered", output); // two convs, the global pool, the Gemm
            Assert.Contains("file was missing", output);
            Assert.Single(Directory.GetFiles(cache, "tuning-*.json"));

            (code, output) = Invoke(TuneCommand.Create(), "tune", path, "--cache-dir", cache);
            Assert.True(code == 0, output);
            Assert.Contains("4 layers with variants, 0 measured now, 4 remembered", output);
            Assert.Contains("file was loaded", output);
        }
        finally { Directory.Delete(cache, recursive: true); }
    }
}
