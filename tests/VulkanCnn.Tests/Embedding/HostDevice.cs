using Silk.NET.Core;
using Silk.NET.Core.Native;
using Silk.NET.Vulkan;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VkBuffer = Silk.NET.Vulkan.Buffer;
using VkSemaphore = Silk.NET.Vulkan.Semaphore;

namespace VulkanCnn.Tests.Embedding;

/// <summary>
/// A stand-in for a game engine: creates its own instance (with validation), device, queue,
/// host-visible storage buffers and semaphores with raw Vulkan calls, independent of VulkanCnn.
/// </summary>
public sealed unsafe class HostDevice : IDisposable
{
    private static int _errors;
    private static readonly List<string> Messages = new();
    private readonly List<(VkBuffer Buffer, DeviceMemory Memory)> _buffers = new();
    private readonly List<VkSemaphore> _semaphores = new();
    private DebugUtilsMessengerEXT _messenger;

    public Vk Vk { get; } = Vk.GetApi();
    public Instance Instance { get; }
    public PhysicalDevice Physical { get; }
    public Device Device { get; }
    public Queue Queue { get; }
    public uint Family { get; }
    public static int ValidationErrors => _errors;
    public static IReadOnlyList<string> ValidationMessages { get { lock (Messages) return Messages.ToList(); } }

    public HostDevice()
    {
        var layer = SilkMarshal.StringArrayToPtr(["VK_LAYER_KHRONOS_validation"]);
        var ext = SilkMarshal.StringArrayToPtr(["VK_EXT_debug_utils"]);
        var app = new ApplicationInfo { SType = StructureType.ApplicationInfo, ApiVersion = (uint)Vk.Version12 };
        var info = new InstanceCreateInfo
        {
            SType = StructureType.InstanceCreateInfo,
            PApplicationInfo = &app,
            EnabledLayerCount = 1,
            PpEnabledLayerNames = (byte**)layer,
            EnabledExtensionCount = 1,
            PpEnabledExtensionNames = (byte**)ext,
        };
        Instance instance;
        Check(Vk.CreateInstance(&info, null, &instance));
        Instance = instance;
        SilkMarshal.Free(layer);
        SilkMarshal.Free(ext);

        var create = (delegate* unmanaged[Cdecl]<Instance, DebugUtilsMessengerCreateInfoEXT*, AllocationCallbacks*, DebugUtilsMessengerEXT*,
            Result>)
            Vk.GetInstanceProcAddr(instance, "vkCreateDebugUtilsMessengerEXT").Handle;
        var m = new DebugUtilsMessengerCreateInfoEXT
        {
            SType = StructureType.DebugUtilsMessengerCreateInfoExt,
            MessageSeverity = DebugUtilsMessageSeverityFlagsEXT.ErrorBitExt,
            MessageType = DebugUtilsMessageTypeFlagsEXT.ValidationBitExt | DebugUtilsMessageTypeFlagsEXT.GeneralBitExt,
            PfnUserCallback = new PfnDebugUtilsMessengerCallbackEXT(&OnMessage),
        };
        DebugUtilsMessengerEXT messenger;
        Check(create(instance, &m, null, &messenger));
        _messenger = messenger;

        uint count = 1;
        PhysicalDevice pd;
        var r = Vk.EnumeratePhysicalDevices(instance, &count, &pd);
        if (r != Result.Success && r != Result.Incomplete) Check(r);
        Physical = pd;
        Family = 0; // lavapipe and most GPUs: family 0 has graphics + compute
        float priority = 1;
        var queueInfo = new DeviceQueueCreateInfo
        {
            SType = StructureType.DeviceQueueCreateInfo,
            QueueFamilyIndex = Family,
            QueueCount = 1,
            PQueuePriorities = &priority
        };
        var deviceInfo = new DeviceCreateInfo
        {
            SType = StructureType.DeviceCreateInfo,
            QueueCreateInfoCount = 1,
            PQueueCreateInfos = &queueInfo
        };
        Device device;
        Check(Vk.CreateDevice(pd, &deviceInfo, null, &device));
        Device = device;
        Queue queue;
        Vk.GetDeviceQueue(device, Family, 0, &queue);
        Queue = queue;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static Bool32 OnMessage(DebugUtilsMessageSeverityFlagsEXT severity, DebugUtilsMessageTypeFlagsEXT type,
        DebugUtilsMessengerCallbackDataEXT* data, void* user)
    {
        if (severity.HasFlag(DebugUtilsMessageSeverityFlagsEXT.ErrorBitExt))
        {
            Interlocked.Increment(ref _errors);
            lock (Messages) Messages.Add(Marshal.PtrToStringUTF8((nint)data->PMessage) ?? "");
        }
        return false;
    }

    /// <summary>A host-visible, coherent storage buffer, mapped for the test to read and write.</summary>
    public (VkBuffer Buffer, nint Mapped) CreateBuffer(int floats)
    {
        var info = new BufferCreateInfo
        {
            SType = StructureType.BufferCreateInfo,
            Size = (ulong)floats * 4,
            Usage = BufferUsageFlags.StorageBufferBit | BufferUsageFlags.TransferSrcBit | BufferUsageFlags.TransferDstBit,
        };
        VkBuffer buffer;
        Check(Vk.CreateBuffer(Device, &info, null, &buffer));
        Vk.GetBufferMemoryRequirements(Device, buffer, out var req);
        Vk.GetPhysicalDeviceMemoryProperties(Physical, out var props);
        uint type = 0;
        var want = MemoryPropertyFlags.HostVisibleBit | MemoryPropertyFlags.HostCoherentBit;
        while ((req.MemoryTypeBits & (1u << (int)type)) == 0 || (props.MemoryTypes[(int)type].PropertyFlags & want) != want) type++;
        var alloc = new MemoryAllocateInfo { SType = StructureType.MemoryAllocateInfo, AllocationSize = req.Size, MemoryTypeIndex = type };
        DeviceMemory memory;
        Check(Vk.AllocateMemory(Device, &alloc, null, &memory));
        Check(Vk.BindBufferMemory(Device, buffer, memory, 0));
        void* p;
        Check(Vk.MapMemory(Device, memory, 0, Vk.WholeSize, 0, &p));
        _buffers.Add((buffer, memory));
        return (buffer, (nint)p);
    }

    public VkSemaphore CreateSemaphore()
    {
        var info = new SemaphoreCreateInfo { SType = StructureType.SemaphoreCreateInfo };
        VkSemaphore s;
        Check(Vk.CreateSemaphore(Device, &info, null, &s));
        _semaphores.Add(s);
        return s;
    }

    /// <summary>An empty batch that waits on and/or signals semaphores, optionally with a fence.</summary>
    public void SubmitEmpty(VkSemaphore? wait, VkSemaphore? signal, Fence fence = default)
    {
        var w = wait ?? default;
        var s = signal ?? default;
        var stage = PipelineStageFlags.AllCommandsBit;
        var submit = new SubmitInfo
        {
            SType = StructureType.SubmitInfo,
            WaitSemaphoreCount = wait is null ? 0u : 1u,
            PWaitSemaphores = &w,
            PWaitDstStageMask = &stage,
            SignalSemaphoreCount = signal is null ? 0u : 1u,
            PSignalSemaphores = &s,
        };
        Check(Vk.QueueSubmit(Queue, 1, &submit, fence));
    }

    public Fence CreateFence()
    {
        var info = new FenceCreateInfo { SType = StructureType.FenceCreateInfo };
        Fence f;
        Check(Vk.CreateFence(Device, &info, null, &f));
        return f;
    }

    public static void Check(Result r)
    {
        if (r != Result.Success) throw new InvalidOperationException("Vulkan call failed: " + r);
    }

    public void Dispose()
    {
        Vk.DeviceWaitIdle(Device);
        foreach (var s in _semaphores) Vk.DestroySemaphore(Device, s, null);
        foreach (var (b, m) in _buffers) { Vk.DestroyBuffer(Device, b, null); Vk.FreeMemory(Device, m, null); }
        Vk.DestroyDevice(Device, null);
        var destroy = (delegate* unmanaged[Cdecl]<Instance, DebugUtilsMessengerEXT, AllocationCallbacks*, void>)
            Vk.GetInstanceProcAddr(Instance, "vkDestroyDebugUtilsMessengerEXT").Handle;
        destroy(Instance, _messenger, null);
        Vk.DestroyInstance(Instance, null);
        Vk.Dispose();
    }
}
