using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Nn;

/// <summary><c>gpu.Compile(module, inputShape: [1, 3, 224, 224])</c>.</summary>
public static class ModuleCompilation
{
    public static Session Compile(this GpuDevice device, Module module, TensorShape inputShape, SessionOptions? options = null) =>
        device.Compile(module.ToGraph(inputShape), inputShape, options);
}
