using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Benchmarks;

/// <summary>A memory-bound layer: its node (null: the copy_vec4 shader, the bandwidth ceiling), input shape and the bytes it
/// must move (read + write).</summary>
public sealed record MemoryBoundLayer(string Name, Node? Node, TensorShape Input, TensorShape Output)
{
    public double Bytes => 4.0 * (Input.ElementCount + Output.ElementCount);
    public override string ToString() => Name;
}

/// <summary>Pooling and elementwise layers at ResNet-18 sizes, as GB/s of compulsory traffic, next to the copy_vec4 shader
/// moving as many bytes in the same run ("Of peak": the fraction of the copy's bandwidth each layer reaches).</summary>
public class MemoryBoundBenchmarks : IDisposable
{
    private static Node N(string op, params (string, object)[] attributes)
    {
        var a = new Attributes();
        foreach (var (k, v) in attributes) a.Set(k, v);
        return new Node(op, op, op == "Add" ? ["x", "x"] : ["x"], ["y"], a);
    }

    private static readonly MemoryBoundLayer Copy = new("copy_vec4 64@112", null, [1, 64, 112, 112], [1, 64, 112, 112]);

    public static bool IsPeak(BenchmarkCase c) => WorkOf.Param<MemoryBoundLayer>(c, nameof(Case)).Node is null;

    public static IEnumerable<MemoryBoundLayer> Cases() =>
    [
        Copy,
        new("maxpool 3x3/2 64@112",
            N("MaxPool", ("kernel_shape", new[] { 3, 3 }), ("strides", new[] { 2, 2 }), ("pads", new[] { 1, 1, 1, 1 })), [1, 64, 112, 112],
                [1, 64, 56, 56]),
        new("global avgpool 512@7", N("GlobalAveragePool"), [1, 512, 7, 7], [1, 512, 1, 1]),
        new("relu 64@112", N("Relu"), [1, 64, 112, 112], [1, 64, 112, 112]),
        new("add 64@56", N("Add"), [1, 64, 56, 56], [1, 64, 56, 56]),
    ];

    [ParamsSource(nameof(Cases))]
    public MemoryBoundLayer Case { get; set; } = null!;

    public static (double, string) Work(BenchmarkCase c) => (WorkOf.Param<MemoryBoundLayer>(c, nameof(Case)).Bytes, "B");

    private GpuDevice _gpu = null!;
    private Tensor _x = null!, _y = null!;
    private BoundNode? _node;
    private BoundKernel? _copy;
    private CommandRecording _rec = null!;

    [GlobalSetup]
    public void Setup()
    {
        _gpu = BenchmarkDevice.Create();
        _x = Tensor.Create(_gpu, Case.Input);
        _x.Upload(new float[Case.Input.ElementCount]);
        _y = Tensor.Create(_gpu, Case.Output);
        _rec = new CommandRecording(_gpu, Case.Name);
        if (Case.Node is { } node)
        {
            _node = BoundNode.Bind(_gpu, node, node.Inputs.Select(_ => (Tensor?)_x).ToList(), [_y]);
            _node.Record(_rec);
        }
        else
        {
            uint local = _gpu.DefaultWorkgroupSize, vec4s = (uint)(Case.Input.ElementCount / 4);
            var (x, y) = _gpu.Grid1D(vec4s, local);
            _copy = new BoundKernel(_gpu.GetPipeline(new PipelineKey("copy_vec4", 2, 4, local)), [_x.Buffer, _y.Buffer], (x, y, 1),
                BitConverter.GetBytes(vec4s));
            _rec.Dispatch(_copy);
        }
        _rec.Finish();
        _rec.Run();
    }

    [Benchmark(Description = "layer")]
    public void Layer() => _rec.Run();

    [GlobalCleanup]
    public void Dispose()
    {
        _rec?.Dispose(); _node?.Dispose(); _copy?.Dispose(); _y?.Dispose(); _x?.Dispose(); _gpu?.Dispose();
        GC.SuppressFinalize(this);
    }
}
