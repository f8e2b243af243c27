using System.Runtime.InteropServices;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// 3-D (NCDHW) MaxPool and AveragePool (<c>pool3d</c>, <c>pool3d_backward</c>): one output per invocation forward; backward a
/// gather, one input element per invocation over the windows holding it (max: where it is the window's first maximum,
/// recomputed from X), so every dX element has one writer. The windows come from <see cref="Pool.Windows"/>.
/// </summary>
internal static class Pool3d
{
    public static void Forward(KernelSink s, TensorShape x, Pool.WindowAxis[] axes, Tensor input, Tensor output)
    {
        var push = Params(s, x, axes);
        uint local = s.Device.DefaultWorkgroupSize;
        s.Dispatch(s.Pipeline(new PipelineKey("pool3d", 2, Marshal.SizeOf<Pool3dParams>(), local)), [input, output],
            s.Grid1D(push.Planes * (long)push.OD * push.OH * push.OW, local), push);
    }

    /// <summary>dX += the windows' share of dY.</summary>
    public static void Backward(BackwardContext c, TensorShape x, Pool.WindowAxis[] axes, Tensor input, Tensor dy, Tensor dx)
    {
        var s = KernelSink.Of(c);
        uint local = s.Device.DefaultWorkgroupSize;
        s.Dispatch(s.Pipeline(new PipelineKey("pool3d_backward", 3, Marshal.SizeOf<Pool3dParams>(), local)), [input, dy, dx],
            s.Grid1D(x.ElementCount, local), Params(s, x, axes));
    }

    private static Pool3dParams Params(KernelSink s, TensorShape x, Pool.WindowAxis[] a)
    {
        var node = s.Context.Node;
        bool max = node.OpType == "MaxPool";
        return new Pool3dParams
        {
            Planes = checked((uint)(x[0] * x[1])),
            D = (uint)x[2],
            H = (uint)x[3],
            W = (uint)x[4],
            OD = (uint)a[0].Out,
            OH = (uint)a[1].Out,
            OW = (uint)a[2].Out,
            KD = (uint)a[0].Kernel,
            KH = (uint)a[1].Kernel,
            KW = (uint)a[2].Kernel,
            SD = (uint)a[0].Stride,
            SH = (uint)a[1].Stride,
            SW = (uint)a[2].Stride,
            DD = (uint)a[0].Dilation,
            DH = (uint)a[1].Dilation,
            DW = (uint)a[2].Dilation,
            PD = a[0].PadBegin,
            PH = a[1].PadBegin,
            PW = a[2].PadBegin,
            ED = a[0].PadEnd,
            EH = a[1].PadEnd,
            EW = a[2].PadEnd,
            IsMax = max ? 1u : 0u,
            IncludePad = !max && node.Attributes.Int("count_include_pad", 0) != 0 ? 1u : 0u,
        };
    }

    /// <summary>Mirrors shaders/common/pool3d_window.glsl (96 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Pool3dParams
    {
        public uint Planes, D, H, W, OD, OH, OW, KD, KH, KW, SD, SH, SW, DD, DH, DW;
        public int PD, PH, PW, ED, EH, EW;
        public uint IsMax, IncludePad;
    }
}
