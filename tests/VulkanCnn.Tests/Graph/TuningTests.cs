using System.Text.Json.Nodes;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Models;
using VulkanCnn.Nn;
using VulkanCnn.Ops;
using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Tests.Ops;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Graph;

/// <summary>Kernel variants as data: the selector, <see cref="Tuning.Fixed"/>, and <see cref="Tuning.Measure"/> with its
/// validated, remembered choices.</summary>
public sealed class TuningTests(GpuFixture gpu) : GpuTest(gpu)
{
    [Fact]
    public void Every_operator_with_variants_has_a_test_matrix_over_all_of_them()
    {
        var withVariants = VulkanCnn.Ops.OperatorRegistry.OpTypes
            .Select(t => { VulkanCnn.Ops.OperatorRegistry.TryGet(t, out var op); return op; })
            .OfType<IKernelVariants>().Distinct().ToDictionary(op => op.GetType().Name, op => op.Variants);
        // Conv: ConvTests.CaseStrategies and ConvNdTests (1-D and 3-D); Pool: the windowed tests ("window") and
        // Global_pools_match_reference_with_every_variant; Gemm: Gemm_matches_reference and the others run every variant;
        // MatMul_matches_numpy_semantics_with_every_variant's 2-D cases include the naive reference.
        Assert.Equal(["Conv", "Gemm", "Pool"], withVariants.Keys.Order());
        Assert.Equal(["naive", "blocked", "tiled"], withVariants["Gemm"]);
        Assert.Contains(GemmTests.MatMulShapes, row => ((int[])row[0]).Length == 2 && ((int[])row[1]).Length == 2);
        var convMatrix = ConvTests.CaseStrategies().Select(row => (string)row[1]).ToHashSet();
        convMatrix.UnionWith(Training.ConvNdTests.Cases.Values.SelectMany(Training.ConvNdTests.VariantsOf));
        Assert.Equal(withVariants["Conv"].Order(), convMatrix.Order());
        Assert.Equal(["window", "loop", "group"], withVariants["Pool"]);
        Assert.Equal("direct", withVariants["Conv"][0]); // the reference comes first
    }

    [Fact]
    public void Fixed_tuning_names_variants_by_op_type_or_node_and_refuses_what_cannot_run()
    {
        Init.ManualSeed(3);
        var model = SmallModels.Create("small-cnn");
        TensorShape shape = [2, 1, 28, 28];
        var input = Reference.Random((int)shape.ElementCount, 4);
        using var heuristic = Device.Compile(model, shape);
        var convs = heuristic.Variants.Where(v => v.OpType == "Conv").ToList();
        Assert.NotEmpty(convs);
        // conv3x3 1 -> 32 (too few input channels for Winograd), conv3x3 32 -> 64 at 14x14, batch 2: F(4,3).
        Assert.Equal(["gemm", "winograd_f4x3"], convs.Select(v => v.Variant));
        Assert.Null(heuristic.TuningReport);

        string first = convs[0].Node;
        using var direct = Device.Compile(model, shape,
            new SessionOptions { Tuning = Tuning.Fixed(new Dictionary<string, string> { ["Conv"] = "direct", [first] = "gemm" }) });
        var fixedConvs = direct.Variants.Where(v => v.OpType == "Conv").ToList();
        Assert.Equal("gemm", fixedConvs[0].Variant);
        Assert.All(fixedConvs.Skip(1), v => Assert.Equal("direct", v.Variant));
        Tolerance.AssertClose(heuristic.Run(input), direct.Run(input), Tolerance.Network, "direct vs gemm and Winograd convs");
        Assert.Contains("(gemm)", heuristic.Profile(runs: 1).ToString());
        Assert.Contains("(winograd_f4x3)", heuristic.Profile(runs: 1).ToString());

        var refused = Assert.Throws<UnsupportedAttributeException>(() =>
            Device.Compile(model, shape,
                new SessionOptions { Tuning = Tuning.Fixed(new Dictionary<string, string> { ["Conv"] = "1x1" }) }));
        Assert.Contains(first, refused.Message);
        Assert.Contains("1x1 kernel", refused.Message);
        var unknown = Assert.Throws<GraphException>(() =>
            Device.Compile(model, shape,
                new SessionOptions { Tuning = Tuning.Fixed(new Dictionary<string, string> { ["Conv"] = "winograd" }) }));
        Assert.Contains("direct, gemm, 1x1, depthwise", unknown.Message);
    }

    public static TheoryData<string> Networks => new() { "ResNet-18", "MobileNetV2" };

    [Theory]
    [MemberData(nameof(Networks))]
    public void A_tuned_network_agrees_with_the_untuned_one_and_its_choices_reload_without_measuring(string name)
    {
        string cache = Directory.CreateTempSubdirectory("vkcnn-tune-").FullName;
        try
        {
            Init.ManualSeed(5);
            Module model = name == "ResNet-18" ? ResNet.ResNet18(numClasses: 10) : new MobileNetV2(numClasses: 10);
            TensorShape shape = [1, 3, 64, 64];
            var input = Reference.Random((int)shape.ElementCount, 6, 0, 1);
            float[] untuned, tuned;
            IReadOnlyList<(string, string, string?)> chosen;
            using (var device = Gpu.Create(cacheDirectory: cache))
            {
                using (var plain = device.Compile(model, shape)) untuned = plain.Run(input);
                using var measured = device.Compile(model, shape, new SessionOptions { Tuning = Tuning.Measure });
                var report = measured.TuningReport!;
                Assert.Equal(TuningFileStatus.Missing, report.File);
                Assert.True(report.Measured > 0);
                // Every Conv, global pool and Gemm has at least two variants here (direct and gemm; loop and group; blocked and
                // tiled): each got a decision.
                Assert.Equal(measured.Variants.Where(v => v.OpType is "Conv" or "GlobalAveragePool" or "Gemm").Select(v => v.Node),
                    report.Decisions.Select(d => d.Node));
                foreach (var d in report.Decisions)
                {
                    Assert.Equal(d.Trials.Where(t => t.Milliseconds is not null).MinBy(t => t.Milliseconds)!.Variant, d.Winner);
                    Assert.True(d.Trials.Count >= 2, $"{d.Node} tried {d.Trials.Count} variant(s)");
                    Assert.Contains(measured.Variants, v => v.Node == d.Node && v.Variant == d.Winner);
                }
                // Repeated layers of one configuration measure once.
                Assert.True(report.Decisions.Select(d => d.Key).Distinct().Count() == report.Measured,
                    "a configuration was measured twice");
                tuned = measured.Run(input);
                chosen = measured.Variants;
                Assert.True(File.Exists(report.FilePath));
            }
            Tolerance.AssertClose(untuned, tuned, Tolerance.Network, $"{name} tuned vs untuned");

            using (var device = Gpu.Create(cacheDirectory: cache))
            using (var again = device.Compile(model, shape, new SessionOptions { Tuning = Tuning.Measure }))
            {
                Assert.Equal(TuningFileStatus.Loaded, again.TuningReport!.File);
                Assert.Equal(0, again.TuningReport.Measured);
                Assert.Equal(chosen, again.Variants);
                Assert.Equal(tuned, again.Run(input));
            }
        }
        finally { Directory.Delete(cache, recursive: true); }
    }

    public static TheoryData<string> Damage => new() { "corrupt", "foreign-device", "changed-shader", "empty" };

    [Theory]
    [MemberData(nameof(Damage))]
    public void A_damaged_or_foreign_tuning_file_means_measuring_again_never_a_wrong_kernel(string damage)
    {
        string cache = Directory.CreateTempSubdirectory("vkcnn-tune-").FullName;
        try
        {
            Init.ManualSeed(9);
            var model = SmallModels.Create("small-cnn");
            TensorShape shape = [1, 1, 28, 28];
            string path;
            using (var device = Gpu.Create(cacheDirectory: cache))
            using (var first = device.Compile(model, shape, new SessionOptions { Tuning = Tuning.Measure }))
                path = first.TuningReport!.FilePath!;
            var json = JsonNode.Parse(File.ReadAllText(path))!;
            switch (damage)
            {
                case "corrupt": File.WriteAllText(path, File.ReadAllText(path)[..40]); break;
                case "empty": File.WriteAllText(path, ""); break;
                case "foreign-device":
                    json["DeviceUuid"] = new string('0', 32);
                    File.WriteAllText(path, json.ToJsonString());
                    break;
                default:
                    foreach (var choice in json["Choices"]!.AsArray())
                        foreach (var shader in choice!["Shaders"]!.AsObject().Select(p => p.Key).ToList())
                            choice["Shaders"]![shader] = new string('A', 64);
                    File.WriteAllText(path, json.ToJsonString());
                    break;
            }
            using var device2 = Gpu.Create(cacheDirectory: cache);
            using var again = device2.Compile(model, shape, new SessionOptions { Tuning = Tuning.Measure });
            var report = again.TuningReport!;
            Assert.Equal(damage == "changed-shader" ? TuningFileStatus.Loaded : TuningFileStatus.Discarded, report.File);
            Assert.True(report.Measured > 0 && report.Measured == report.Decisions.Count,
                $"{report.Measured} of {report.Decisions.Count} measured");
            Assert.NotNull(JsonNode.Parse(File.ReadAllText(path))); // rewritten whole
        }
        finally { Directory.Delete(cache, recursive: true); }
    }

    [Fact]
    public void Without_a_cache_folder_choices_are_measured_and_not_saved()
    {
        Init.ManualSeed(10);
        using var device = GpuDevice.Create(new GpuDeviceOptions { Validation = true, DisablePipelineCache = true, Log = _ => { } });
        Assert.Null(device.PipelineCache.Directory);
        using var s = device.Compile(SmallModels.Create("small-cnn"), [1, 1, 28, 28], new SessionOptions { Tuning = Tuning.Measure });
        Assert.Equal(TuningFileStatus.Disabled, s.TuningReport!.File);
        Assert.Null(s.TuningReport.FilePath);
        Assert.True(s.TuningReport.Measured > 0);
    }

    [Fact]
    public void A_variant_that_disagrees_with_the_reference_is_excluded_even_when_it_is_fastest()
    {
        float[] reference = [1, -2, 300, 4];
        float[] close = [1, -2, 300.02f, 4];   // within 1e-4 · max(1, 300) = 0.03
        float[] wrong = [1, -2, 300.05f, 4];   // beyond it
        float[] nan = [1, float.NaN, 300, 4];
        var (winner,
            trials) = VariantTuner.Decide([("direct", 9.0, reference), ("fast-but-wrong", 1.0, wrong), ("nan", 0.5, nan),
                ("gemm", 2.0, close)]);
        Assert.Equal("gemm", winner);
        Assert.Equal([9.0, null, null, 2.0], trials.Select(t => t.Milliseconds));
        Assert.Contains("differs from the reference variant by", trials[1].Excluded);
        Assert.Contains("NaN", trials[2].Excluded);
        Assert.Null(trials[3].Excluded);
        // The reference wins when every other variant disagrees, and NaN where the reference has NaN agrees.
        Assert.Equal("direct", VariantTuner.Decide([("direct", 5.0, reference), ("wrong", 1.0, wrong)]).Winner);
        Assert.Null(VariantTuner.Disagreement([float.NaN, 1], [float.NaN, 1]));
        // Infinities: equal ones agree; one against a finite value disagrees; an infinite reference does not widen the bound.
        Assert.Null(VariantTuner.Disagreement([float.PositiveInfinity, 1], [float.PositiveInfinity, 1]));
        Assert.Contains("Infinity", VariantTuner.Disagreement([float.PositiveInfinity, 1], [1e30f, 1]));
        Assert.Contains("differs", VariantTuner.Disagreement([float.PositiveInfinity, 1], [float.PositiveInfinity, 1.5f]));
        // A variant's own stated bound: 3e-4 of the scale is outside the op bound and inside Winograd F(4,3)'s 5e-4.
        Assert.Contains("differs", VariantTuner.Disagreement([1, 2], [1, 2.0006f]));
        Assert.Null(VariantTuner.Disagreement([1, 2], [1, 2.0006f], tolerance: 5e-4));
        Assert.True(OperatorRegistry.TryGet("Conv", out var conv));
        Assert.Equal(5e-4, ((IKernelVariants)conv).ErrorBound("winograd_f4x3"));
        Assert.Equal(1e-4, ((IKernelVariants)conv).ErrorBound("winograd_f2x3"));
    }

    [Fact]
    public void The_tuning_key_tells_apart_every_attribute_value_and_the_output_count()
    {
        TensorShape?[] shapes = [new TensorShape(1, 4, 8, 8)];
        HostTensor?[] none = [null];
        string Key(Node n) => VariantTuner.Key(n, shapes, none);
        var a = new Node("MaxPool", "p", ["x"], ["y"], new Attributes().Set("kernel_shape", new[] { 2, 2 }));
        var b = new Node("MaxPool", "q", ["x"], ["y"], new Attributes().Set("kernel_shape", new[] { 2, 3 }));
        var c = new Node("MaxPool", "r", ["x"], ["y", "i"], new Attributes().Set("kernel_shape", new[] { 2, 2 }));
        Assert.Equal(Key(a), Key(new Node("MaxPool", "other name", ["x"], ["y"], new Attributes().Set("kernel_shape", new[] { 2, 2 }))));
        Assert.NotEqual(Key(a), Key(b));
        Assert.NotEqual(Key(a), Key(c));
        var t1 = new Node("X", "t", ["x"], ["y"], new Attributes().Set("value", HostTensor.FromFloats([2], [1f, 2f])));
        var t2 = new Node("X", "t", ["x"], ["y"], new Attributes().Set("value", HostTensor.FromFloats([2], [1f, 3f])));
        Assert.NotEqual(Key(t1), Key(t2));
        var odd = new Node("X", "t", ["x"], ["y"], new Attributes().Set("graph", new object()));
        Assert.Contains("'graph'", Assert.Throws<NotSupportedException>(() => Key(odd)).Message);
    }

    [Fact]
    public void Devices_sharing_a_cache_folder_merge_their_choices_instead_of_overwriting_them()
    {
        string cache = Directory.CreateTempSubdirectory("vkcnn-tune-").FullName;
        try
        {
            Init.ManualSeed(12);
            var cnn = SmallModels.Create("small-cnn");
            var resnet = SmallModels.Create("small-resnet");
            var measure = new SessionOptions { Tuning = Tuning.Measure };
            using var b = Gpu.Create(cacheDirectory: cache);
            using (b.Compile(cnn, [2, 1, 28, 28], measure)) { }                // b's store opens before a writes
            using (var a = Gpu.Create(cacheDirectory: cache))
            using (a.Compile(cnn, [1, 1, 28, 28], measure)) { }               // a writes its choices
            using (b.Compile(resnet, [1, 1, 28, 28], measure)) { }            // b writes again: a's must survive
            using var c = Gpu.Create(cacheDirectory: cache);
            foreach (var (model, shape) in new[] { (cnn, new TensorShape(1, 1, 28, 28)), (cnn, new TensorShape(2, 1, 28, 28)),
                         (resnet, new TensorShape(1, 1, 28, 28)) })
            {
                using var s = c.Compile(model, shape, measure);
                Assert.Equal(0, s.TuningReport!.Measured);
                Assert.NotEmpty(s.TuningReport.Decisions);
            }
        }
        finally { Directory.Delete(cache, recursive: true); }
    }
}
