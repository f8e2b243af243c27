namespace VulkanCnn.Vulkan;

/// <summary>GPU objects an owner created, disposed together in reverse creation order.</summary>
internal sealed class OwnedResources : List<IDisposable>, IDisposable
{
    public T Own<T>(T resource) where T : IDisposable
    {
        Add(resource);
        return resource;
    }

    public void Dispose()
    {
        for (int i = Count - 1; i >= 0; i--) this[i].Dispose();
        Clear();
    }
}
