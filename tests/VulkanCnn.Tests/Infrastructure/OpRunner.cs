using VulkanCnn.Compiler;
using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Infrastructure;

/// <summary>An operator input for <see cref="OpRunner"/>: activations by default, <c>Const</c> for weights and shape-like inputs.</summary>
public sealed record In(TensorShape Shape, float[]? Data = null, long[]? Ints = null, bool Const = false)
{
    public static In Of(TensorShape shape, float[] data) => new(shape, data);
    public static In Weight(TensorShape shape, float[] data) => new(shape, data, Const: true);
    public static In Int64(params long[] values) => new(new TensorShape(values.Length), Ints: values, Const: true);
    public static In Random(TensorShape shape, int seed, float low = -1, float high = 1) =>
        new(shape, Reference.Random((int)shape.ElementCount, seed, low, high));

    public ConstantTensor ToConstant() => Ints is not null ? ConstantTensor.FromInts(Shape, Ints) : ConstantTensor.FromFloats(Shape, Data!);
}

/// <summary>Runs a single IR node on the GPU (through <see cref="NodeRunner"/>) for operator tests.</summary>
public static class OpRunner
{
    public static IReadOnlyList<ConstantTensor> Run(GpuDevice device, string opType, Attributes? attributes, params In?[] inputs)
    {
        var node = new Node(opType, opType.ToLowerInvariant() + "0",
            inputs.Select((x, i) => x is null ? "" : $"in{i}"), ["out0"], attributes);
        return NodeRunner.Run(device, node, inputs.Select(x => x is null ? null : new NodeInput(x.ToConstant(), x.Const)).ToList());
    }

    /// <summary>Runs the node and returns output 0.</summary>
    public static ConstantTensor Run1(GpuDevice device, string opType, Attributes? attributes, params In?[] inputs) =>
        Run(device, opType, attributes, inputs)[0];

    public static Attributes Attrs(params (string Name, object Value)[] values)
    {
        var a = new Attributes();
        foreach (var (n, v) in values) a.Set(n, v);
        return a;
    }
}
