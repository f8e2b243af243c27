using VulkanCnn.Ir;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Ops;

/// <summary>
/// An operator that can compute a node in more than one way (Conv: direct, implicit GEMM, 1x1, depthwise).
/// Each variant says for itself whether it can compute a node on a device; <see cref="VariantSelector"/>
/// is the one place that picks among them, and <see cref="OpContext.Variant"/> tells the build which.
/// </summary>
internal interface IKernelVariants
{
    /// <summary>Every variant's name; the first is the reference (the simplest kernel, which the others are checked against).</summary>
    IReadOnlyList<string> Variants { get; }

    /// <summary>Why <paramref name="variant"/> cannot compute the node on <paramref name="device"/>, or null when it can.</summary>
    /// <remarks><paramref name="device"/> is null when only the node's own conditions are asked (shape inference, before a
    /// device is known); the device's limits are checked when it is given.</remarks>
    string? Refusal(string variant, OpContext node, GpuDevice? device);

    /// <summary>The rule per device class (no timing): the variant to use when nothing else decides.</summary>
    string Heuristic(OpContext node, GpuDevice device);

    /// <summary>How far <paramref name="variant"/>'s output may differ from the reference variant's, relative to
    /// max(1, max|reference|): the op bound, unless the variant states a larger one (Winograd F(4,3)'s rounding).</summary>
    double ErrorBound(string variant) => OpErrorBound;

    /// <summary>The per-operator fp32 bound every variant is held to unless it states another.</summary>
    const double OpErrorBound = 1e-4;
}

/// <summary>How a session picks kernel variants (<c>SessionOptions.Tuning</c>).</summary>
public enum TuningMode
{
    /// <summary>A rule per device class (<see cref="IKernelVariants.Heuristic"/>); nothing is timed. The default.</summary>
    Heuristic,
    /// <summary>Every applicable variant of each distinct node configuration is timed on the device at compile time,
    /// checked against the reference variant, and the fastest kept (and remembered next to the pipeline cache).</summary>
    Measure,
    /// <summary>The caller names the variants (by node name, else by op type); the heuristic decides the rest.</summary>
    Fixed,
}

/// <summary>The variant policy of a session: <see cref="Heuristic"/>, <see cref="Measure"/> or <see cref="Fixed"/>.</summary>
public sealed record Tuning
{
    private Tuning(TuningMode mode, IReadOnlyDictionary<string, string> variants)
    {
        Mode = mode;
        Variants = variants;
    }

    public TuningMode Mode { get; }

    /// <summary>With <see cref="TuningMode.Fixed"/>: variant names keyed by node name or op type (a node name wins).</summary>
    public IReadOnlyDictionary<string, string> Variants { get; }

    public static Tuning Heuristic { get; } = new(TuningMode.Heuristic, new Dictionary<string, string>());
    public static Tuning Measure { get; } = new(TuningMode.Measure, new Dictionary<string, string>());

    /// <summary>Use these variants: <c>Tuning.Fixed(new() { ["Conv"] = "direct", ["layer3.0.conv1"] = "gemm" })</c>. A named variant
    /// that cannot compute its node is an error naming the node, not a silent fallback.</summary>
    public static Tuning Fixed(IReadOnlyDictionary<string, string> variants) =>
        new(TuningMode.Fixed, new Dictionary<string,
            string>(variants ?? throw new ArgumentNullException(nameof(variants)), StringComparer.Ordinal));
}

/// <summary>
/// The one place a kernel variant is chosen for a node: the node's <c>vkcnn.variant</c> attribute (tests), then an
/// explicit choice (the tuner's), then <see cref="Tuning.Fixed"/>'s map, then the operator's heuristic.
/// </summary>
public static class VariantSelector
{
    /// <summary>Node attribute naming the variant to use (validated against the node and device).</summary>
    public const string Attribute = "vkcnn.variant";

    /// <summary>The variants of the node's operator that can compute it on <paramref name="device"/>,
    /// reference first; empty for an operator with one way only.</summary>
    internal static IReadOnlyList<string> Applicable(OpContext context, GpuDevice device) =>
        NodeKernels.Operator(context.Node) is IKernelVariants v
            ? v.Variants.Where(name => v.Refusal(name, context, device) is null).ToList() : [];

    /// <summary>Checks the node's <see cref="Attribute"/>, when it has one, against what its operator offers and the node's own
    /// conditions: a wrong name or an inapplicable variant fails at shape inference, naming the node.</summary>
    internal static void CheckAttribute(OpContext context)
    {
        if (context.String(Attribute) is { } named && NodeKernels.Operator(context.Node) is IKernelVariants op)
            Validate(op, context, null, named, $"{Attribute} '{named}'");
    }

    /// <summary>The variant to build <paramref name="context"/>'s node with, or null for an operator without variants.</summary>
    internal static string? Choose(OpContext context, GpuDevice device, Tuning? tuning, string? chosen = null)
    {
        if (NodeKernels.Operator(context.Node) is not IKernelVariants op) return null;
        var node = context.Node;
        if (context.String(Attribute) is { } named) return Validate(op, context, device, named, $"{Attribute} '{named}'");
        if (chosen is not null) return Validate(op, context, device, chosen, $"variant '{chosen}'");
        if (tuning is { Mode: TuningMode.Fixed }
            && (tuning.Variants.GetValueOrDefault(node.Name) ?? tuning.Variants.GetValueOrDefault(node.OpType)) is { } fixedName)
            return Validate(op, context, device, fixedName, $"Tuning.Fixed variant '{fixedName}'");
        return op.Heuristic(context, device);
    }

    private static string Validate(IKernelVariants op, OpContext c, GpuDevice? device, string name, string what)
    {
        if (!op.Variants.Contains(name))
            throw c.Error($"{what} is not a variant of {c.Node.OpType}; it has {string.Join(", ", op.Variants)}");
        if (op.Refusal(name, c, device) is { } why) throw c.Unsupported($"{what} {why}");
        return name;
    }
}
