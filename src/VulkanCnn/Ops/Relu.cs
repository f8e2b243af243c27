using System.Runtime.InteropServices;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>ReLU: y = max(x, 0) (shader <c>relu</c>).</summary>
public static class Relu
{
    public static BoundKernel Bind(Tensor input, Tensor output)
    {
        if (input.Shape != output.Shape)
            throw new ArgumentException($"Relu output '{output.Name}' has shape {output.Shape}; input '{input.Name}' has {input.Shape}.", nameof(output));
        var device = input.Device;
        uint local = device.DefaultWorkgroupSize;
        var pipeline = device.GetPipeline(new KernelDescription("relu", 2, 4, local));
        var (x, y) = device.Grid1D(input.ElementCount, local);
        ReadOnlySpan<uint> push = [checked((uint)input.ElementCount)];
        return new BoundKernel(pipeline, [input.Buffer, output.Buffer], (x, y, 1), MemoryMarshal.AsBytes(push), "Relu");
    }
}
