using Google.Protobuf;
using Onnx;
using System.Diagnostics;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Onnx;
using Xunit.Abstractions;
using static VulkanCnn.Tests.Onnx.OnnxModels;

namespace VulkanCnn.Tests.Onnx;

/// <summary>Malformed and hostile files end in a typed exception naming the file and the tensor or node; never a crash or a huge
/// allocation.</summary>
public sealed class OnnxMalformedTests(ITestOutputHelper output)
{
    private static OnnxImportException Fails(ModelProto model) => Fails(Save(model));

    private static OnnxImportException Fails(string path)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<OnnxImportException>(() => OnnxImporter.Load(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 << 20,
            "the importer allocated over 64 MiB before refusing the file");
        Assert.Equal(path, e.File);
        Assert.StartsWith(path + ":", e.Message);
        return e;
    }

    private static string SaveBytes(byte[] bytes)
    {
        string path = Path.Combine(TempFolder(), "model.onnx");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(-1)]
    public void Truncated_file(double keep)
    {
        var bytes = SmallCnn().ToByteArray();
        int length = keep < 0 ? bytes.Length + (int)keep : (int)(bytes.Length * keep);
        var e = Fails(SaveBytes(bytes[..length]));
        Assert.Contains("not a valid ONNX model", e.Message);
    }

    [Fact]
    public void Wrong_magic_empty_and_graphless_files()
    {
        Assert.Contains("not a valid ONNX model",
            Fails(SaveBytes([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0xFF, 0xFF])).Message);
        Assert.Contains("is empty", Fails(SaveBytes([])).Message);
        Assert.Contains("no graph", Fails(SaveBytes(new ModelProto { ProducerName = "x" }.ToByteArray())).Message);
        Assert.Contains("does not exist", Fails(Path.Combine(TempFolder(), "missing.onnx")).Message);
    }

    [Fact]
    public void Huge_and_negative_dims_are_refused_before_allocating()
    {
        var huge = new TensorProto { Name = "w", DataType = 1 };
        huge.Dims.AddRange([1L << 30, 1L << 30, 1L << 30]);
        var e = Fails(Model(13, Net([Input("x", 2L)], ["y"], [Node("Add", ["x", "w"], ["y"])], [huge])));
        Assert.Equal("w", e.Tensor);
        Assert.Contains("exceed the import limit", e.Message);
        huge.Dims.Clear();
        huge.Dims.AddRange([2, 1L << 40]);
        Assert.Contains("dimension 1 (1099511627776) is too large",
            Fails(Model(13, Net([Input("x", 2L)], ["y"], [Node("Add", ["x", "w"], ["y"])], [huge]))).Message);

        var negative = Floats("w", [2], [1, 2]);
        negative.Dims[0] = -2;
        Assert.Contains("negative", Fails(Model(13, Net([Input("x", 2L)], ["y"], [Node("Add", ["x", "w"], ["y"])], [negative]))).Message);

        var hugeInput = Model(13, Net([Input("x", 1L << 40)], ["y"], [Node("Relu", ["x"], ["y"])]));
        Assert.Contains("dimension 0", Fails(hugeInput).Message);
        var negativeInput = Model(13, Net([Input("x", -2L, 3L)], ["y"], [Node("Relu", ["x"], ["y"])]));
        Assert.Contains("dimension 0 = -2", Fails(negativeInput).Message);
        // A zero dimension is an empty tensor, which ONNX allows.
        var zeroInput = Model(13, Net([Input("x", 0L, 3L)], ["y"], [Node("Relu", ["x"], ["y"])]));
        Assert.Equal(new TensorShape(0, 3), OnnxImporter.Load(Save(zeroInput)).Inputs[0].Shape);
    }

    [Fact]
    public void Raw_data_length_mismatch_names_the_tensor()
    {
        var w = Floats("w", [3], [1, 2]);
        var e = Fails(Model(13, Net([Input("x", 3L)], ["y"], [Node("Add", ["x", "w"], ["y"])], [w])));
        Assert.Equal("w", e.Tensor);
        Assert.Contains("raw_data holds 8 bytes", e.Message);
        var typed = Ints("k", [4], [1, 2, 3]);
        Assert.Contains("holds 3 values",
            Fails(Model(13, Net([Input("x", 3L)], ["y"], [Node("Reshape", ["x", "k"], ["y"])], [typed]))).Message);
    }

    [Fact]
    public void Cycles_missing_initializers_and_dangling_values_name_the_node()
    {
        var cycle = Fails(Model(13,
            Net([Input("x", 3L)], ["y"], [Node("Add", ["x", "b"], ["a"]), Node("Relu", ["a"], ["b"]), Node("Relu", ["a"], ["y"])])));
        Assert.Contains("cycle", cycle.Message);
        Assert.NotNull(cycle.Node);

        var missing = Fails(Model(13,
            Net([Input("x", 1L, 3L, 4L, 4L)], ["y"], [Node("Conv", ["x", "w"], ["y"], Attr("kernel_shape", 1L, 1L))])));
        Assert.Equal("conv_y", missing.Node);
        Assert.Contains("input 'w' is not produced by any node, graph input or initializer", missing.Message);

        var dangling = Fails(Model(13, Net([Input("x", 3L)], ["y", "z"], [Node("Relu", ["x"], ["y"])])));
        Assert.Contains("graph output 'z' is not produced", dangling.Message);

        var twice = Fails(Model(13, Net([Input("x", 3L)], ["y"], [Node("Relu", ["x"], ["y"]), Node("Neg", ["x"], ["y"])])));
        Assert.Contains("also produced by", twice.Message);
    }

    [Fact]
    public void External_data_outside_the_models_folder_is_refused()
    {
        string outside = TempFolder();
        string secret = Path.Combine(outside, "secret.bin");
        File.WriteAllBytes(secret, new byte[24]);
        string folder = TempFolder();
        ModelProto With(string location) => Model(13, Net([Input("x", 6L)], ["y"], [Node("Add", ["x", "w"], ["y"])],
            [OnnxImporterTests.External("w", [6], location)]));

        var absolute = Fails(Save(With(secret), folder));
        Assert.Equal("w", absolute.Tensor);
        Assert.Contains($"'{secret}' is absolute", absolute.Message);

        var parent = Fails(Save(With($"../{Path.GetFileName(outside)}/secret.bin"), folder));
        Assert.Contains("uses '..'", parent.Message);

        File.CreateSymbolicLink(Path.Combine(folder, "link.bin"), secret);
        var link = Fails(Save(With("link.bin"), folder));
        Assert.Contains("outside the model's folder", link.Message);
        Assert.Contains("symbolic link", link.Message);

        Directory.CreateSymbolicLink(Path.Combine(folder, "sub"), outside);
        Assert.Contains("outside the model's folder", Fails(Save(With("sub/secret.bin"), folder)).Message);

        File.WriteAllBytes(Path.Combine(folder, "short.bin"), new byte[8]);
        Assert.Contains("runs past its end", Fails(Save(With("short.bin"), folder)).Message);
    }

    /// <summary>
    /// Seeded mutations (bit flips, inserted, deleted and overwritten bytes) of valid models: each
    /// must load or fail with a typed <see cref="GraphException"/>, in bounded time and memory.
    /// </summary>
    [Fact]
    public void Mutated_models_load_or_fail_with_a_typed_exception()
    {
        var seeds = new List<byte[]> { SmallCnn().ToByteArray(), ShapeModel().ToByteArray(), SmallCnn(6).ToByteArray() };
        string conv = Path.Combine(ConformanceData.Root, "node", "test_conv_with_strides_padding", "model.onnx");
        if (File.Exists(conv)) seeds.Add(File.ReadAllBytes(conv));
        int count = int.TryParse(Environment.GetEnvironmentVariable("VKCNN_ONNX_FUZZ"), out int n) ? n : 200;
        var rng = new Random(int.TryParse(Environment.GetEnvironmentVariable("VKCNN_ONNX_FUZZ_SEED"), out int seed) ? seed : 20240611);
        int loaded = 0, refused = 0;
        var worst = TimeSpan.Zero;
        for (int i = 0; i < count; i++)
        {
            var bytes = Mutate(seeds[i % seeds.Count], rng);
            long before = GC.GetAllocatedBytesForCurrentThread();
            var clock = Stopwatch.StartNew();
            try
            {
                OnnxImporter.Load(new MemoryStream(bytes), options: new OnnxImportOptions { BatchSize = 1 });
                loaded++;
            }
            catch (GraphException) { refused++; }
            catch (Exception e)
            {
                Assert.Fail($"mutation {i}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
            clock.Stop();
            worst = clock.Elapsed > worst ? clock.Elapsed : worst;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"mutation {i} took {clock.Elapsed}");
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 256L << 20, $"mutation {i} allocated {allocated >> 20} MiB");
        }
        output.WriteLine($"{count} mutations: {loaded} loaded, {refused} refused with a typed exception; slowest " +
            $"{worst.TotalMilliseconds:F1} ms");
        Assert.Equal(count, loaded + refused);
        Assert.True(refused > 0);
    }

    private static byte[] Mutate(byte[] source, Random rng)
    {
        var b = new List<byte>(source);
        int edits = 1 + rng.Next(4);
        for (int k = 0; k < edits && b.Count > 1; k++)
        {
            int at = rng.Next(b.Count);
            switch (rng.Next(5))
            {
                case 0: b[at] ^= (byte)(1 << rng.Next(8)); break;
                case 1: b.Insert(at, (byte)rng.Next(256)); break;
                case 2: b.RemoveRange(at, Math.Min(1 + rng.Next(8), b.Count - at)); break;
                case 3: b[at] = 0xFF; break; // turns a varint into a long, huge one
                default: b[at] = (byte)rng.Next(256); break;
            }
        }
        return [.. b];
    }

    /// <summary>Shape → Gather → Unsqueeze → Concat → Reshape, with a Constant node.</summary>
    private static ModelProto ShapeModel() => Model(13, Net([Input("x", "N", 3L, 4L)], ["y"],
        [
            Node("Shape", ["x"], ["s"]),
            Node("Constant", [], ["zero"], Attr("value", Ints("", [], [0]))),
            Node("Gather", ["s", "zero"], ["n"], Attr("axis", 0L)),
            Node("Unsqueeze", ["n", "axes"], ["n1"]),
            Node("Concat", ["n1", "minus1"], ["shape"], Attr("axis", 0L)),
            Node("Reshape", ["x", "shape"], ["r"]),
            Node("Softmax", ["r"], ["y"], Attr("axis", 1L)),
        ],
        [Ints("axes", [1], [0]), Ints("minus1", [1], [-1])]));
}
