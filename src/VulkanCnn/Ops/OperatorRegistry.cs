using System.Reflection;

namespace VulkanCnn.Ops;

/// <summary>Every <see cref="IOperator"/> in this assembly, found by reflection (no hand-kept list).</summary>
public static class OperatorRegistry
{
    private static readonly Dictionary<string, IOperator> ByType = Discover();

    /// <summary>Every ONNX op type the runtime implements.</summary>
    public static IReadOnlyCollection<string> OpTypes { get; } = ByType.Keys.Where(t => !IsInternal(t)).ToList();

    /// <summary>Whether the runtime implements <paramref name="opType"/>.</summary>
    public static bool IsSupported(string opType) => ByType.ContainsKey(opType) && !IsInternal(opType);

    /// <summary>Op types only the compiler adds (vkcnn.BatchSlice …): never accepted from a model.</summary>
    internal static bool IsInternal(string opType) => opType.StartsWith("vkcnn.", StringComparison.Ordinal);

    internal static bool TryGet(string opType, out IOperator op) => ByType.TryGetValue(opType, out op!);

    private static Dictionary<string, IOperator> Discover()
    {
        var map = new Dictionary<string, IOperator>(StringComparer.Ordinal);
        foreach (var type in typeof(IOperator).Assembly.GetTypes())
        {
            if (type.IsAbstract || type.IsInterface || !typeof(IOperator).IsAssignableFrom(type)) continue;
            if (type.GetConstructor(BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes) is null) continue;
            var op = (IOperator)Activator.CreateInstance(type)!;
            foreach (var opType in op.OpTypes)
                if (!map.TryAdd(opType, op))
                    throw new InvalidOperationException($"Op type {opType} is implemented by both {map[opType].GetType().Name} and " +
                        $"{type.Name}.");
        }
        return map;
    }
}
