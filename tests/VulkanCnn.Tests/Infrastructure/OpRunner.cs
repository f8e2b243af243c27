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

    public HostTensor ToConstant() => Ints is not null ? HostTensor.FromInts(Shape, Ints) : HostTensor.FromFloats(Shape, Data!);
}

/// <summary>Runs a single IR node on the GPU (through <see cref="NodeRunner"/>) for operator tests.</summary>
public static class OpRunner
{
    public static IReadOnlyList<HostTensor> Run(GpuDevice device, string opType, Attributes? attributes, params In?[] inputs)
    {
        var node = new Node(opType, opType.ToLowerInvariant() + "0",
            inputs.Select((x, i) => x is null ? "" : $"in{i}"), ["out0"], attributes);
        return NodeRunner.Run(device, node, inputs.Select(x => x is null ? null : new NodeInput(x.ToConstant(), x.Const)).ToList());
    }

    /// <summary>Runs the node with its float tensors stored as <paramref name="storage"/> (as a session stores an fp16 node: inputs
    /// rounded to half on upload, the .f16 kernels, outputs read back as float).</summary>
    public static IReadOnlyList<HostTensor> RunStored(DataType storage, GpuDevice device, string opType, Attributes? attributes,
        params In?[] inputs)
    {
        var node = new Node(opType, opType.ToLowerInvariant() + "0",
            inputs.Select((x, i) => x is null ? "" : $"in{i}"), ["out0"], attributes);
        var values = inputs.Select(x => x is null ? null : new NodeInput(x.ToConstant(), x.Const)).ToList();
        return NodeRunner.Run(device, node, values, storage);
    }

    /// <summary>Runs the node and returns output 0.</summary>
    public static HostTensor Run1(GpuDevice device, string opType, Attributes? attributes, params In?[] inputs) =>
        Run(device, opType, attributes, inputs)[0];

    /// <summary>Runs the node once with every kernel variant its operator can use for it on <paramref name="device"/>
    /// (<see cref="VariantSelector.Applicable"/>; one unnamed run for an operator without variants), so a test compares
    /// every variant with its reference, not only the default.</summary>
    public static IReadOnlyList<(string? Variant, HostTensor Output)> RunEachVariant(GpuDevice device, string opType,
        Attributes? attributes, params In?[] inputs)
    {
        var node = new Node(opType, opType.ToLowerInvariant() + "0", inputs.Select((x, i) => x is null ? "" : $"in{i}"), ["out0"],
            attributes);
        var context = new VulkanCnn.Ops.OpContext(node, inputs.Select(x => x?.Shape).ToList(),
            inputs.Select(x => x is { Const: true } ? x.ToConstant() : null).ToList());
        var variants = VulkanCnn.Ops.VariantSelector.Applicable(context, device);
        if (variants.Count == 0) return [(null, Run1(device, opType, attributes, inputs))];
        return variants.Select(v =>
        {
            var a = Attrs(attributes?.Names.Select(n => (n, attributes[n]!)).ToArray() ?? []);
            a.Set(VulkanCnn.Ops.VariantSelector.Attribute, v);
            return ((string?)v, Run1(device, opType, a, inputs));
        }).ToList();
    }

    public static Attributes Attrs(params (string Name, object Value)[] values)
    {
        var a = new Attributes();
        foreach (var (n, v) in values) a.Set(n, v);
        return a;
    }
}
