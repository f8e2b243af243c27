namespace VulkanCnn.Vulkan;

/// <summary>Picks a physical device: by index or name substring when asked, else discrete &gt; integrated &gt; virtual &gt; CPU.</summary>
public static class DeviceSelector
{
    public static DeviceInfo Choose(IReadOnlyList<DeviceInfo> devices, string? request)
    {
        if (devices.Count == 0)
            throw new NoVulkanDeviceException("The Vulkan loader found no physical device");
        if (string.IsNullOrWhiteSpace(request))
            return devices.OrderByDescending(d => d.PreferenceRank).ThenBy(d => d.Index).First();

        string list = string.Join("; ", devices.Select(d => $"{d.Index}: {d.Name} ({d.Type})"));
        if (int.TryParse(request, out int index))
        {
            return devices.FirstOrDefault(d => d.Index == index)
                ?? throw new ArgumentException($"No Vulkan device has index {index} (VKCNN_DEVICE / Device option). Devices: {list}",
                    "Device");
        }
        var matches = devices.Where(d => d.Name.Contains(request, StringComparison.OrdinalIgnoreCase)).ToList();
        if (matches.Count == 0)
            throw new ArgumentException($"No Vulkan device name contains '{request}' (VKCNN_DEVICE / Device option). Devices: {list}",
                "Device");
        return matches.OrderByDescending(d => d.PreferenceRank).ThenBy(d => d.Index).First();
    }
}
