using Silk.NET.Vulkan;
using System.Runtime.InteropServices;

namespace VulkanCnn.Vulkan;

/// <summary>One matrix multiply-accumulate shape a device runs as a cooperative matrix (VK_KHR_cooperative_matrix):
/// Result[M×N] = A[M×K]·B[K×N] + C, with each operand's element type and the scope that executes it.</summary>
public sealed record CooperativeMatrixShape(uint M, uint N, uint K, string AType, string BType, string CType, string ResultType,
    bool SaturatingAccumulation, string Scope)
{
    public override string ToString() =>
        $"{M}x{N}x{K} {AType}·{BType}+{CType}->{ResultType} ({Scope}{(SaturatingAccumulation ? ", saturating" : "")})";
}

/// <summary>Reads the cooperative-matrix shapes a physical device supports through
/// vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR, called through its function pointer (the Silk.NET extension package is not
/// used here).</summary>
internal static unsafe class CooperativeMatrices
{
    public const string Extension = "VK_KHR_cooperative_matrix";
    private const int PropertiesStructureType = 1000506001; // VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR

    [StructLayout(LayoutKind.Sequential)]
    private struct Properties
    {
        public int SType;
        public nint PNext;
        public uint M, N, K;
        public int A, B, C, Result;
        public uint Saturating;
        public int Scope;
    }

    /// <summary>The shapes, or none when the device lacks the extension or the loader the entry point.</summary>
    public static IReadOnlyList<CooperativeMatrixShape> Read(Vk vk, Instance instance, PhysicalDevice pd, IReadOnlySet<string> extensions)
    {
        if (!extensions.Contains(Extension) || instance.Handle == 0) return [];
        var fn = (delegate* unmanaged<PhysicalDevice, uint*, Properties*, Result>)
            vk.GetInstanceProcAddr(instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR").Handle;
        if (fn == null) return [];
        uint count = 0;
        fn(pd, &count, null).Check("vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR");
        var props = new Properties[count];
        for (int i = 0; i < props.Length; i++) props[i].SType = PropertiesStructureType;
        fixed (Properties* p = props) fn(pd, &count, p).Check("vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR");
        return props.Take((int)count).Select(p => new CooperativeMatrixShape(p.M, p.N, p.K, Component(p.A), Component(p.B),
            Component(p.C), Component(p.Result), p.Saturating != 0, ScopeName(p.Scope))).ToList();
    }

    private static string Component(int type) => type switch
    {
        0 => "float16",
        1 => "float32",
        2 => "float64",
        3 => "int8",
        4 => "int16",
        5 => "int32",
        6 => "int64",
        7 => "uint8",
        8 => "uint16",
        9 => "uint32",
        10 => "uint64",
        1000141000 => "bfloat16",
        1000491002 => "float8_e4m3",
        1000491003 => "float8_e5m2",
        _ => $"type {type}",
    };

    private static string ScopeName(int scope) => scope switch
    {
        1 => "device",
        2 => "workgroup",
        3 => "subgroup",
        5 => "queue family",
        _ => $"scope {scope}",
    };
}
