using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using System.Runtime.InteropServices;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Ops;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Benchmarks;

/// <summary>The device's arithmetic ceiling: later kernels are reported as a fraction of it.</summary>
public class PeakFmaBenchmarks : IDisposable
{
    private const uint Invocations = 32768;
    private const uint Iterations = 2048;
    private GpuDevice _gpu = null!;
    private Tensor _out = null!;
    private BoundKernel _kernel = null!;
    private CommandRecording _rec = null!;

    public static (double, string) Work(BenchmarkCase c) => ((double)Invocations * Iterations * 64, "FLOP");

    [GlobalSetup]
    public void Setup()
    {
        _gpu = BenchmarkDevice.Create();
        _out = Tensor.Create(_gpu, [(int)Invocations * 4]);
        var pipeline = _gpu.GetPipeline(new PipelineKey("peak_fma", 1, 8, _gpu.DefaultWorkgroupSize));
        var push = new byte[8];
        MemoryMarshal.Write(push, Iterations);
        MemoryMarshal.Write(push.AsSpan(4), 0.5f);
        _kernel = new BoundKernel(pipeline, [_out.Buffer], (Invocations / _gpu.DefaultWorkgroupSize, 1, 1), push);
        _rec = new CommandRecording(_gpu, "peak fma");
        _rec.Dispatch(_kernel);
        _rec.Finish();
        _rec.Run();
    }

    [Benchmark(Description = "peak_fma")]
    public void PeakFma() => _rec.Run();

    [GlobalCleanup]
    public void Dispose()
    {
        _rec?.Dispose(); _kernel?.Dispose(); _out?.Dispose(); _gpu?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Cost of a dispatch inside one command buffer, and of a submit + fence wait.</summary>
public class DispatchOverheadBenchmarks : IDisposable
{
    private GpuDevice _gpu = null!;
    private Tensor _x = null!;
    private BoundNode _relu = null!;
    private CommandRecording _rec = null!;

    [Params(1, 100)]
    public int Dispatches { get; set; }

    public static (double, string) Work(BenchmarkCase c) => (WorkOf.Param<int>(c, nameof(Dispatches)), "dispatch");

    [GlobalSetup]
    public void Setup()
    {
        _gpu = BenchmarkDevice.Create();
        _x = Tensor.Create(_gpu, [64]);
        _relu = BoundNode.Bind(_gpu, new Node("Relu", "relu", ["x"], ["x"]), [_x], [_x]);
        _rec = new CommandRecording(_gpu, "overhead");
        for (int i = 0; i < Dispatches; i++) _relu.Record(_rec);
        _rec.Finish();
        _rec.Run();
    }

    [Benchmark(Description = "submit+wait of N tiny dispatches")]
    public void SubmitAndWait() => _rec.Run();

    [GlobalCleanup]
    public void Dispose()
    {
        _rec?.Dispose(); _relu?.Dispose(); _x?.Dispose(); _gpu?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Host↔device transfer bandwidth through mapped memory and through staging buffers.</summary>
public class TransferBenchmarks : IDisposable
{
    private GpuDevice _gpu = null!;
    private Tensor _t = null!;
    private TensorUploader _uploader = null!;
    private float[] _host = null!;

    [Params(1, 16)] // 1 MiB ~ one 640x480 RGB frame
    public int MiB { get; set; }

    [Params(false, true)]
    public bool ForceStaging { get; set; }

    public static (double, string) Work(BenchmarkCase c) => (WorkOf.Param<int>(c, nameof(MiB)) * 1048576.0, "B");

    [GlobalSetup]
    public void Setup()
    {
        _gpu = BenchmarkDevice.Create(forceStaging: ForceStaging);
        _host = new float[MiB * 262144];
        new Random(1).NextBytes(MemoryMarshal.AsBytes(_host.AsSpan()));
        _t = Tensor.Create(_gpu, [_host.Length]);
        _uploader = new TensorUploader(_t);
    }

    [Benchmark] public void Upload() => _t.Upload(_host);
    /// <summary>The same upload through a TensorUploader: staging buffer and copy recording kept between calls.</summary>
    [Benchmark] public void UploaderUpload() => _uploader.Upload(MemoryMarshal.AsBytes(_host.AsSpan()));
    [Benchmark] public void Download() => _t.Download(_host);

    [GlobalCleanup]
    public void Dispose()
    {
        _uploader?.Dispose(); _t?.Dispose(); _gpu?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Device-memory bandwidth (copy_vec4: read + write) and the naive matmul reference kernel.</summary>
public class KernelBenchmarks : IDisposable
{
    private const int CopyFloats = 8 << 20; // 32 MiB each way
    private const int N = 256;
    private GpuDevice _gpu = null!;
    private readonly List<IDisposable> _owned = new();
    private CommandRecording _copy = null!, _matmul = null!;

    public static (double, string) Work(BenchmarkCase c) => c.Descriptor.WorkloadMethod.Name == nameof(CopyVec4)
        ? (2.0 * CopyFloats * 4, "B") : (2.0 * N * N * N, "FLOP");

    [GlobalSetup]
    public void Setup()
    {
        _gpu = BenchmarkDevice.Create();
        var src = Own(Tensor.Create(_gpu, [CopyFloats]));
        var dst = Own(Tensor.Create(_gpu, [CopyFloats]));
        uint local = _gpu.DefaultWorkgroupSize;
        var (x, y) = _gpu.Grid1D(CopyFloats / 4, local);
        var copy = Own(new BoundKernel(_gpu.GetPipeline(new PipelineKey("copy_vec4", 2, 4, local)), [src.Buffer, dst.Buffer],
            (x, y, 1), BitConverter.GetBytes((uint)(CopyFloats / 4))));
        _copy = Own(Record("copy", copy));

        var a = Own(Tensor.Create(_gpu, [N, N]));
        var b = Own(Tensor.Create(_gpu, [N, N]));
        var c = Own(Tensor.Create(_gpu, [N, N]));
        var naive = new Node("MatMul", "matmul", ["a", "b"], ["c"], new Attributes().Set(VulkanCnn.Ops.VariantSelector.Attribute, "naive"));
        _matmul = Own(Record("matmul", Own(BoundNode.Bind(_gpu, naive, [a, b], [c])).Kernels[0]));
    }

    private T Own<T>(T d) where T : IDisposable { _owned.Add(d); return d; }

    private CommandRecording Record(string name, BoundKernel k)
    {
        var rec = new CommandRecording(_gpu, name);
        rec.Dispatch(k);
        rec.Finish();
        rec.Run();
        return rec;
    }

    [Benchmark(Description = "copy_vec4 32 MiB")] public void CopyVec4() => _copy.Run();
    [Benchmark(Description = "matmul_naive 256^3")] public void MatMulNaive() => _matmul.Run();

    [GlobalCleanup]
    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
        _gpu?.Dispose();
        GC.SuppressFinalize(this);
    }
}
