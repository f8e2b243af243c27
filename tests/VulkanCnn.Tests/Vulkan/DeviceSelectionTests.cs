using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Vulkan;

public sealed class DeviceSelectionTests
{
    private static DeviceInfo Fake(int index, string name, string type) => new()
    {
        Index = index,
        Name = name,
        Type = Enum.Parse<DeviceKind>(type),
        VendorId = 1,
        DeviceId = 2,
        DriverName = "d",
        DriverInfo = "",
        DriverVersion = 1,
        ApiVersion = "1.3.0",
        DeviceUuid = "00",
        PipelineCacheUuid = "00",
        Limits = new ComputeLimits([65535, 65535, 65535], [1024, 1024, 64], 1024, 32768, 1 << 27, 128, 1UL << 31, 16, 64, 1, true),
        Subgroup = new SubgroupInfo(32, ["basic"], true),
        Features = new NumericFeatures(false, false, false, false, false, false, false),
        MemoryHeaps = [],
        MemoryTypes = [],
        QueueFamilies = [],
    };

    private static readonly DeviceInfo[] Devices =
    [
        Fake(0, "llvmpipe (LLVM 15)", "Cpu"),
        Fake(1, "Intel(R) UHD Graphics", "IntegratedGpu"),
        Fake(2, "NVIDIA H100", "DiscreteGpu"),
        Fake(3, "Virtio GPU", "VirtualGpu"),
    ];

    [Fact]
    public void Default_prefers_discrete_then_integrated_then_virtual_then_cpu()
    {
        Assert.Equal("NVIDIA H100", DeviceSelector.Choose(Devices, null).Name);
        Assert.Equal("Intel(R) UHD Graphics", DeviceSelector.Choose([Devices[0], Devices[1], Devices[3]], null).Name);
        Assert.Equal("Virtio GPU", DeviceSelector.Choose([Devices[0], Devices[3]], null).Name);
        Assert.Equal("llvmpipe (LLVM 15)", DeviceSelector.Choose([Devices[0]], "").Name);
    }

    [Fact]
    public void Index_and_name_substring_override_the_default()
    {
        Assert.Equal("llvmpipe (LLVM 15)", DeviceSelector.Choose(Devices, "0").Name);
        Assert.Equal("Intel(R) UHD Graphics", DeviceSelector.Choose(Devices, "uhd").Name);
        Assert.Equal("NVIDIA H100", DeviceSelector.Choose(Devices, "nvidia").Name);
    }

    [Fact]
    public void Unknown_index_or_name_is_a_clear_error_listing_the_devices()
    {
        var byIndex = Assert.Throws<ArgumentException>(() => DeviceSelector.Choose(Devices, "7"));
        Assert.Contains("index 7", byIndex.Message);
        Assert.Contains("2: NVIDIA H100", byIndex.Message);
        var byName = Assert.Throws<ArgumentException>(() => DeviceSelector.Choose(Devices, "radeon"));
        Assert.Contains("'radeon'", byName.Message);
        Assert.Contains("VKCNN_DEVICE", byName.Message);
    }

    [Fact]
    public void No_device_at_all_says_how_to_install_a_driver()
    {
        var e = Assert.Throws<NoVulkanDeviceException>(() => DeviceSelector.Choose([], null));
        Assert.Contains("mesa-vulkan-drivers", e.Message);
        Assert.Contains("lavapipe", e.Message);
    }
}

/// <summary>Enumeration and selection on the real machine.</summary>
public sealed class DeviceEnumerationTests(GpuFixture gpu) : GpuTest(gpu)
{
    [Fact]
    public void Enumeration_reports_the_selected_device_with_compute_capabilities()
    {
        // lavapipe on CI; whatever the best device is elsewhere (an H200 ran this suite too).
        var devices = GpuDevice.EnumerateDevices();
        var lavapipe = Assert.Single(devices, d => d.DeviceUuid == Device.Info.DeviceUuid);
        Assert.True(Enum.IsDefined(lavapipe.Type), $"{lavapipe.Type}");
        if (lavapipe.Name.Contains("llvmpipe")) Assert.Equal(DeviceKind.Cpu, lavapipe.Type);
        Assert.True(lavapipe.Subgroup.Size >= 1);
        Assert.True(lavapipe.Limits.MaxStorageBufferRange > 0);
        Assert.NotEmpty(lavapipe.MemoryHeaps);
        Assert.NotEmpty(lavapipe.MemoryTypes);
        Assert.Contains(lavapipe.QueueFamilies, q => q.Flags.Contains("Compute"));
        Assert.Equal(32, lavapipe.DeviceUuid.Length);
    }

    [Fact]
    public void VKCNN_DEVICE_selects_by_name_and_a_bad_value_fails_clearly()
    {
        string? saved = Environment.GetEnvironmentVariable("VKCNN_DEVICE");
        try
        {
            Environment.SetEnvironmentVariable("VKCNN_DEVICE", Device.Info.Name.ToUpperInvariant());
            using (var device = GpuDevice.Create(new GpuDeviceOptions { Validation = true, DisablePipelineCache = true, Log = _ => { } }))
                Assert.Equal(Device.Info.Name, device.Info.Name);
            Environment.SetEnvironmentVariable("VKCNN_DEVICE", "no-such-gpu");
            var e = Assert.Throws<ArgumentException>(() => GpuDevice.Create(new GpuDeviceOptions { DisablePipelineCache = true }));
            Assert.Contains("no-such-gpu", e.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable("VKCNN_DEVICE", saved);
        }
    }

    [Fact]
    public void An_unsupported_device_extension_is_named_in_the_error()
    {
        var e = Assert.Throws<VulkanException>(() => GpuDevice.Create(new GpuDeviceOptions
        {
            DeviceExtensions = ["VK_EXT_no_such_extension"],
            DisablePipelineCache = true,
            Log = _ => { },
        }));
        Assert.Contains("VK_EXT_no_such_extension", e.Message);
        Assert.Contains(Device.Info.Name, e.Message);
    }
}

