using Silk.NET.Vulkan;

namespace VulkanCnn.Vulkan;

/// <summary>What a physical device offers for compute: the capability report of `vkcnn devices`.</summary>
public sealed record DeviceInfo
{
    public required int Index { get; init; }
    public required string Name { get; init; }
    public required DeviceKind Type { get; init; }
    public required uint VendorId { get; init; }
    public required uint DeviceId { get; init; }
    public required string DriverName { get; init; }
    public required string DriverInfo { get; init; }
    /// <summary>Raw VkPhysicalDeviceProperties::driverVersion (vendor-specific encoding).</summary>
    public required uint DriverVersion { get; init; }
    public required string ApiVersion { get; init; }
    /// <summary>The packed VK_MAKE_API_VERSION value behind <see cref="ApiVersion"/>.</summary>
    [System.Text.Json.Serialization.JsonIgnore] public uint ApiVersionRaw { get; init; }
    public required string DeviceUuid { get; init; }
    public required string PipelineCacheUuid { get; init; }
    public required ComputeLimits Limits { get; init; }
    public required SubgroupInfo Subgroup { get; init; }
    public required NumericFeatures Features { get; init; }
    public required IReadOnlyList<MemoryHeapInfo> MemoryHeaps { get; init; }
    public required IReadOnlyList<MemoryTypeInfo> MemoryTypes { get; init; }
    public required IReadOnlyList<QueueFamilyInfo> QueueFamilies { get; init; }

    /// <summary>Matrix shapes the device multiplies cooperatively (VK_KHR_cooperative_matrix; NVIDIA, AMD RDNA3, Intel Arc):
    /// empty where the extension is not offered (lavapipe).</summary>
    public IReadOnlyList<CooperativeMatrixShape> CooperativeMatrices { get; init; } = [];

    /// <summary>True when some memory type is both device-local and host-visible (UMA, ReBAR, lavapipe).</summary>
    public bool HasHostVisibleDeviceLocalMemory =>
        MemoryTypes.Any(t => t.Flags.Contains("DeviceLocal") && t.Flags.Contains("HostVisible") && t.Flags.Contains("HostCoherent"));

    /// <summary>Selection rank: discrete &gt; integrated &gt; virtual &gt; CPU &gt; other.</summary>
    public int PreferenceRank => Type switch
    {
        DeviceKind.DiscreteGpu => 4,
        DeviceKind.IntegratedGpu => 3,
        DeviceKind.VirtualGpu => 2,
        DeviceKind.Cpu => 1,
        _ => 0,
    };
}

/// <summary>What kind of device a physical device is (VkPhysicalDeviceType); written by name in JSON.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<DeviceKind>))]
public enum DeviceKind
{
    Other = 0,
    IntegratedGpu = 1,
    DiscreteGpu = 2,
    VirtualGpu = 3,
    /// <summary>A CPU implementation such as Mesa lavapipe.</summary>
    Cpu = 4,
}

public sealed record ComputeLimits(
    uint[] MaxWorkGroupCount,
    uint[] MaxWorkGroupSize,
    uint MaxWorkGroupInvocations,
    uint MaxSharedMemoryBytes,
    ulong MaxStorageBufferRange,
    uint MaxPushConstantsBytes,
    ulong MaxMemoryAllocationSize,
    ulong MinStorageBufferOffsetAlignment,
    ulong NonCoherentAtomSize,
    float TimestampPeriodNs,
    bool TimestampComputeAndGraphics);

public sealed record SubgroupInfo(uint Size, IReadOnlyList<string> Operations, bool SupportedInCompute);

public sealed record NumericFeatures(
    bool ShaderFloat16, bool ShaderInt8, bool ShaderInt16, bool ShaderInt64, bool ShaderFloat64,
    bool StorageBuffer16BitAccess, bool StorageBuffer8BitAccess);

public sealed record MemoryHeapInfo(int Index, ulong SizeBytes, bool DeviceLocal);

public sealed record MemoryTypeInfo(int Index, int HeapIndex, IReadOnlyList<string> Flags);

public sealed record QueueFamilyInfo(int Index, IReadOnlyList<string> Flags, uint QueueCount, uint TimestampValidBits);
