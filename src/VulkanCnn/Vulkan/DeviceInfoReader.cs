using Silk.NET.Vulkan;
using System.Text;

namespace VulkanCnn.Vulkan;

/// <summary>Reads a <see cref="DeviceInfo"/> from a physical device (Vulkan 1.1 queries, 1.2 ones when present).</summary>
internal static unsafe class DeviceInfoReader
{
    public static DeviceInfo Read(Vk vk, Instance instance, PhysicalDevice pd, int index)
    {
        vk.GetPhysicalDeviceProperties(pd, out var props);
        bool v12 = props.ApiVersion >= (uint)Vk.Version12;

        var subgroup = new PhysicalDeviceSubgroupProperties { SType = StructureType.PhysicalDeviceSubgroupProperties };
        var ids = new PhysicalDeviceIDProperties { SType = StructureType.PhysicalDeviceIDProperties, PNext = &subgroup };
        var driver = new PhysicalDeviceDriverProperties { SType = StructureType.PhysicalDeviceDriverProperties, PNext = &ids };
        var props2 = new PhysicalDeviceProperties2 { SType = StructureType.PhysicalDeviceProperties2, PNext = v12 ? &driver : &ids };
        vk.GetPhysicalDeviceProperties2(pd, &props2);

        var f16 = new PhysicalDevice16BitStorageFeatures { SType = StructureType.PhysicalDevice16BitStorageFeatures };
        var f12 = new PhysicalDeviceVulkan12Features { SType = StructureType.PhysicalDeviceVulkan12Features, PNext = &f16 };
        var features2 = new PhysicalDeviceFeatures2 { SType = StructureType.PhysicalDeviceFeatures2, PNext = v12 ? &f12 : &f16 };
        vk.GetPhysicalDeviceFeatures2(pd, &features2);
        var core = features2.Features;

        vk.GetPhysicalDeviceMemoryProperties(pd, out var mem);
        var heaps = new List<MemoryHeapInfo>();
        for (int i = 0; i < mem.MemoryHeapCount; i++)
            heaps.Add(new MemoryHeapInfo(i, mem.MemoryHeaps[i].Size, mem.MemoryHeaps[i].Flags.HasFlag(MemoryHeapFlags.DeviceLocalBit)));
        var types = new List<MemoryTypeInfo>();
        for (int i = 0; i < mem.MemoryTypeCount; i++)
            types.Add(new MemoryTypeInfo(i, (int)mem.MemoryTypes[i].HeapIndex, MemoryFlagNames(mem.MemoryTypes[i].PropertyFlags)));

        uint familyCount = 0;
        vk.GetPhysicalDeviceQueueFamilyProperties(pd, &familyCount, null);
        var families = new QueueFamilyProperties[familyCount];
        fixed (QueueFamilyProperties* pf = families) vk.GetPhysicalDeviceQueueFamilyProperties(pd, &familyCount, pf);

        var l = props.Limits;
        return new DeviceInfo
        {
            Index = index,
            Name = Utf8(props.DeviceName, 256),
            Type = (DeviceKind)props.DeviceType,
            VendorId = props.VendorID,
            DeviceId = props.DeviceID,
            DriverName = v12 ? Utf8(driver.DriverName, 256) : "",
            DriverInfo = v12 ? Utf8(driver.DriverInfo, 256) : "",
            DriverVersion = props.DriverVersion,
            ApiVersion = FormatVersion(props.ApiVersion),
            ApiVersionRaw = props.ApiVersion,
            DeviceUuid = Convert.ToHexString(new ReadOnlySpan<byte>(ids.DeviceUuid, 16)),
            PipelineCacheUuid = Convert.ToHexString(new ReadOnlySpan<byte>(props.PipelineCacheUuid, 16)),
            Limits = new ComputeLimits(
                [l.MaxComputeWorkGroupCount[0], l.MaxComputeWorkGroupCount[1], l.MaxComputeWorkGroupCount[2]],
                [l.MaxComputeWorkGroupSize[0], l.MaxComputeWorkGroupSize[1], l.MaxComputeWorkGroupSize[2]],
                l.MaxComputeWorkGroupInvocations, l.MaxComputeSharedMemorySize, l.MaxStorageBufferRange,
                l.MaxPushConstantsSize, v12 ? MaxAllocation(vk, pd) : ulong.MaxValue,
                l.MinStorageBufferOffsetAlignment, l.NonCoherentAtomSize, l.TimestampPeriod, l.TimestampComputeAndGraphics),
            Subgroup = new SubgroupInfo(subgroup.SubgroupSize, SubgroupOps(subgroup.SupportedOperations),
                subgroup.SupportedStages.HasFlag(ShaderStageFlags.ComputeBit)),
            Features = new NumericFeatures(
                v12 && f12.ShaderFloat16, v12 && f12.ShaderInt8, core.ShaderInt16, core.ShaderInt64, core.ShaderFloat64,
                f16.StorageBuffer16BitAccess, v12 && f12.StorageBuffer8BitAccess),
            MemoryHeaps = heaps,
            MemoryTypes = types,
            QueueFamilies = families.Select((f, i) =>
                new QueueFamilyInfo(i, QueueFlagNames(f.QueueFlags), f.QueueCount, f.TimestampValidBits)).ToList(),
            CooperativeMatrices = CooperativeMatrices.Read(vk, instance, pd, GpuDevice.DeviceExtensionNames(vk, pd)),
        };
    }

    private static ulong MaxAllocation(Vk vk, PhysicalDevice pd)
    {
        var maint3 = new PhysicalDeviceMaintenance3Properties { SType = StructureType.PhysicalDeviceMaintenance3Properties };
        var p2 = new PhysicalDeviceProperties2 { SType = StructureType.PhysicalDeviceProperties2, PNext = &maint3 };
        vk.GetPhysicalDeviceProperties2(pd, &p2);
        return maint3.MaxMemoryAllocationSize;
    }

    public static string FormatVersion(uint v) => $"{v >> 22}.{(v >> 12) & 0x3FF}.{v & 0xFFF}";

    private static string Utf8(byte* p, int max)
    {
        int n = 0;
        while (n < max && p[n] != 0) n++;
        return Encoding.UTF8.GetString(p, n);
    }

    private static IReadOnlyList<string> MemoryFlagNames(MemoryPropertyFlags f)
    {
        var names = new List<string>();
        if (f.HasFlag(MemoryPropertyFlags.DeviceLocalBit)) names.Add("DeviceLocal");
        if (f.HasFlag(MemoryPropertyFlags.HostVisibleBit)) names.Add("HostVisible");
        if (f.HasFlag(MemoryPropertyFlags.HostCoherentBit)) names.Add("HostCoherent");
        if (f.HasFlag(MemoryPropertyFlags.HostCachedBit)) names.Add("HostCached");
        if (f.HasFlag(MemoryPropertyFlags.LazilyAllocatedBit)) names.Add("LazilyAllocated");
        if (f.HasFlag(MemoryPropertyFlags.ProtectedBit)) names.Add("Protected");
        return names;
    }

    private static IReadOnlyList<string> QueueFlagNames(QueueFlags f)
    {
        var names = new List<string>();
        if (f.HasFlag(QueueFlags.GraphicsBit)) names.Add("Graphics");
        if (f.HasFlag(QueueFlags.ComputeBit)) names.Add("Compute");
        if (f.HasFlag(QueueFlags.TransferBit)) names.Add("Transfer");
        if (f.HasFlag(QueueFlags.SparseBindingBit)) names.Add("SparseBinding");
        return names;
    }

    private static IReadOnlyList<string> SubgroupOps(SubgroupFeatureFlags f)
    {
        var names = new List<string>();
        if (f.HasFlag(SubgroupFeatureFlags.BasicBit)) names.Add("basic");
        if (f.HasFlag(SubgroupFeatureFlags.VoteBit)) names.Add("vote");
        if (f.HasFlag(SubgroupFeatureFlags.ArithmeticBit)) names.Add("arithmetic");
        if (f.HasFlag(SubgroupFeatureFlags.BallotBit)) names.Add("ballot");
        if (f.HasFlag(SubgroupFeatureFlags.ShuffleBit)) names.Add("shuffle");
        if (f.HasFlag(SubgroupFeatureFlags.ShuffleRelativeBit)) names.Add("shuffle_relative");
        if (f.HasFlag(SubgroupFeatureFlags.ClusteredBit)) names.Add("clustered");
        if (f.HasFlag(SubgroupFeatureFlags.QuadBit)) names.Add("quad");
        return names;
    }
}
