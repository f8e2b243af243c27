using System.Runtime.InteropServices;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>Which elementwise binary operation <see cref="BinaryOp"/> runs (the shader's OP constant).</summary>
public enum BinaryOpKind : uint
{
    Add = 0,
    Mul = 1,
}

/// <summary>Elementwise Add / Mul of two equally shaped tensors (shader family <c>binary_op</c>).
/// Broadcasting arrives with the full operator library.</summary>
public static class BinaryOp
{
    public static BoundKernel Bind(BinaryOpKind kind, Tensor a, Tensor b, Tensor output)
    {
        if (a.Shape != b.Shape || a.Shape != output.Shape)
            throw new ArgumentException($"{kind} needs equal shapes: '{a.Name}' {a.Shape}, '{b.Name}' {b.Shape}, output '{output.Name}' {output.Shape}.");
        var device = a.Device;
        uint local = device.DefaultWorkgroupSize;
        var pipeline = device.GetPipeline(new KernelDescription("binary_op", 3, 4, local) { Constants = [(uint)kind] });
        var (x, y) = device.Grid1D(a.ElementCount, local);
        ReadOnlySpan<uint> push = [checked((uint)a.ElementCount)];
        return new BoundKernel(pipeline, [a.Buffer, b.Buffer, output.Buffer], (x, y, 1), MemoryMarshal.AsBytes(push), kind.ToString());
    }
}
