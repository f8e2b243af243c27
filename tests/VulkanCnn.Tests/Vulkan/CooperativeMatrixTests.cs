using VulkanCnn.Tests.Infrastructure;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Tests.Vulkan;

/// <summary>DeviceInfo.CooperativeMatrices (VK_KHR_cooperative_matrix, for the GPU kernels of the tensor-core kind) is read
/// exactly where the device offers the extension: checked against asking the driver to enable it.</summary>
public sealed class CooperativeMatrixTests(GpuFixture gpu) : GpuTest(gpu)
{
    [Fact]
    public void Shapes_are_reported_exactly_where_the_extension_is_offered()
    {
        bool offered;
        try
        {
            using var device = GpuDevice.Create(new GpuDeviceOptions
            {
                Device = Device.Info.Index.ToString(System.Globalization.CultureInfo.InvariantCulture),
                DeviceExtensions = [CooperativeMatrices.Extension],
                DisablePipelineCache = true,
            });
            offered = true;
        }
        catch (VulkanException e) when (e.Message.Contains(CooperativeMatrices.Extension, StringComparison.Ordinal))
        {
            offered = false;
        }
        if (offered)
        {
            Assert.NotEmpty(Device.Info.CooperativeMatrices);
            Assert.All(Device.Info.CooperativeMatrices, s => Assert.True(s.M > 0 && s.N > 0 && s.K > 0, s.ToString()));
        }
        else Assert.Empty(Device.Info.CooperativeMatrices); // lavapipe
        var shape = new CooperativeMatrixShape(16, 16, 16, "float16", "float16", "float32", "float32", false, "subgroup");
        Assert.Equal("16x16x16 float16·float16+float32->float32 (subgroup)", shape.ToString());
    }
}
