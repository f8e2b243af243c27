using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Infrastructure;

/// <summary>Small bound kernels for tests of recording, submission and disposal mechanics.</summary>
public static class TestKernels
{
    /// <summary>y = relu(x) through the Unary operator, outside a session.</summary>
    public static BoundNode Relu(Tensor x, Tensor y) =>
        BoundNode.Bind(x.Device, new Node("Relu", "relu", ["x"], ["y"]), [x], [y]);
}
