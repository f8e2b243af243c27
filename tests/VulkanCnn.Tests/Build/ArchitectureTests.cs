using ArchUnitNET.Domain;
using ArchUnitNET.Domain.Extensions;
using ArchUnitNET.Loader;
using VulkanCnn.Compiler;

namespace VulkanCnn.Tests.Build;

/// <summary>
/// The namespaces form layers: a type may use types of its own layer and the layers below it, never
/// one above (so there is no cycle between layers). Read from the compiled IL (ArchUnitNET), so a
/// dependency through a method body, a lambda or a generic argument counts as much as a signature.
/// </summary>
public class ArchitectureTests
{
    /// <summary>Bottom to top. Each entry is one layer: namespaces (with their sub-namespaces) on the same level
    /// may not use each other either, unless they are the same namespace tree.</summary>
    internal static readonly string[][] Layers =
    [
        ["VulkanCnn"],                      // plain values: TensorShape, DataType (exactly this namespace)
        ["VulkanCnn.Vulkan"],               // device, memory, tensors, pipelines, recordings
        ["VulkanCnn.Ir"],                   // the graph IR operators read: Graph, Node, Attributes, HostTensor
        ["VulkanCnn.Ops"],                  // kernels, forward and backward contracts, the node-to-kernel road
        ["VulkanCnn.Compiler"],             // passes, memory planner, sessions, profiling
        ["VulkanCnn.Nn"],                   // modules that build IR and compile it
        ["VulkanCnn.Models"],               // the built-in architectures
        ["VulkanCnn.Training"],             // autograd over the graph, optimizers, checkpoints, training runs
        ["VulkanCnn.Onnx"],
        ["VulkanCnn.Imaging"],               // images, frames, image datasets, the pretrained image backbone (an ONNX model)
        ["VulkanCnn.Viewer"],
        ["VulkanCnn.Cli"],
    ];

    private static readonly Architecture Product = new ArchLoader().LoadAssemblies(
        typeof(Session).Assembly, typeof(VulkanCnn.Onnx.OnnxExporter).Assembly, typeof(VulkanCnn.Imaging.ImageDecoder).Assembly,
        typeof(VulkanCnn.Viewer.ViewerApp).Assembly, typeof(VulkanCnn.Cli.Commands.RunCommand).Assembly).Build();

    /// <summary>(level, tree) of a namespace; null outside the product.</summary>
    internal static (int Level, string Tree)? LayerOf(string ns)
    {
        for (int level = 0; level < Layers.Length; level++)
            foreach (var tree in Layers[level])
                if (ns == tree || (tree != "VulkanCnn" && ns.StartsWith(tree + ".", StringComparison.Ordinal))) return (level, tree);
        return null;
    }

    [Fact]
    public void Every_product_namespace_belongs_to_a_layer()
    {
        var namespaces = Product.Types.Select(t => t.Namespace.FullName).Where(n =>
            n.StartsWith("VulkanCnn", StringComparison.Ordinal)).Distinct().ToList();
        Assert.Contains("VulkanCnn.Ops", namespaces);
        Assert.Contains("VulkanCnn.Compiler.Passes", namespaces);
        Assert.DoesNotContain(namespaces, n => LayerOf(n) is null);
    }

    [Fact]
    public void No_type_uses_a_layer_above_its_own_or_a_sibling_on_its_level()
    {
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        int edges = 0;
        foreach (var type in Product.Types)
        {
            if (LayerOf(type.Namespace?.FullName ?? "") is not { } from) continue;
            foreach (var dependency in type.GetTypeDependencies())
            {
                if (dependency is null or GenericParameter || LayerOf(dependency.Namespace?.FullName ?? "") is not { } to) continue;
                edges++;
                if (to.Level > from.Level || (to.Level == from.Level && to.Tree != from.Tree))
                    violations.Add($"{type.FullName} ({from.Tree}) uses {dependency.FullName} ({to.Tree})");
            }
        }
        Assert.True(edges > 1000, $"only {edges} dependencies between product types were read; the loader saw too little");
        Assert.True(violations.Count == 0,
            $"{violations.Count} dependencies go up or sideways:\n" + string.Join("\n", violations.Take(60)));
    }

    [Fact]
    public void The_rule_sees_a_dependency_through_a_method_body()
    {
        // NodeKernels names OpBuildContext only inside BuildForward's body (no signature or field has it).
        var nodeKernels = Product.Types.Single(t => t.FullName == "VulkanCnn.Ops.NodeKernels");
        Assert.Contains(nodeKernels.GetTypeDependencies(), d => d.FullName == "VulkanCnn.Ops.OpBuildContext");
        Assert.Equal((3, "VulkanCnn.Ops"), LayerOf("VulkanCnn.Ops"));
        Assert.Equal((4, "VulkanCnn.Compiler"), LayerOf("VulkanCnn.Compiler.Passes"));
        Assert.Null(LayerOf("VulkanCnnX"));
    }
}
