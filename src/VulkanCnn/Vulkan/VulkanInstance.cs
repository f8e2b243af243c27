using Silk.NET.Core.Native;
using Silk.NET.Vulkan;
using System.Runtime.InteropServices;

namespace VulkanCnn.Vulkan;

/// <summary>The VkInstance, its optional validation messenger and the physical devices it sees.</summary>
internal sealed unsafe class VulkanInstance : IDisposable
{
    public const string ValidationLayer = "VK_LAYER_KHRONOS_validation";
    private const string DebugUtils = "VK_EXT_debug_utils";
    private const string PortabilityEnumeration = "VK_KHR_portability_enumeration";

    private DebugUtilsMessengerEXT _messenger;
    private GCHandle _sinkHandle;
    private bool _disposed;
    private bool _owned = true;

    public Vk Vk { get; }
    public Instance Handle { get; }
    public ValidationSink? Validation { get; }
    public IReadOnlyList<string> EnabledExtensions { get; }

    private VulkanInstance(Vk vk, Instance handle, ValidationSink? sink, IReadOnlyList<string> extensions)
    {
        Vk = vk; Handle = handle; Validation = sink; EnabledExtensions = extensions;
    }

    public static VulkanInstance Create(bool validation, IReadOnlyList<string> extraExtensions, Action<string> log)
    {
        Vk vk;
        try { vk = Vk.GetApi(); }
        catch (Exception e) when (e is DllNotFoundException or FileNotFoundException or PlatformNotSupportedException)
        {
            throw new NoVulkanDeviceException($"The Vulkan loader (libvulkan.so.1 / vulkan-1.dll) could not be loaded: {e.Message}");
        }

        var available = InstanceExtensionNames(vk);
        var extensions = new List<string>(extraExtensions);
        foreach (var ext in extraExtensions)
            if (!available.Contains(ext))
                throw new VulkanException($"Instance extension {ext} is not supported by this Vulkan installation.");
        bool portability = available.Contains(PortabilityEnumeration);
        if (portability) extensions.Add(PortabilityEnumeration);
        if (validation)
        {
            if (!InstanceLayerNames(vk).Contains(ValidationLayer))
                throw new VulkanException($"Validation was requested but {ValidationLayer} is not installed " +
                    "(Debian/Ubuntu: `sudo apt-get install vulkan-validationlayers`; elsewhere: the Vulkan SDK).");
            extensions.Add(DebugUtils);
        }

        var sink = validation ? new ValidationSink(log) : null;
        var appName = SilkMarshal.StringToPtr("VulkanCnn");
        var extPtrs = SilkMarshal.StringArrayToPtr(extensions);
        var layerPtrs = SilkMarshal.StringArrayToPtr(validation ? [ValidationLayer] : Array.Empty<string>());
        try
        {
            var app = new ApplicationInfo
            {
                SType = StructureType.ApplicationInfo,
                PApplicationName = (byte*)appName,
                PEngineName = (byte*)appName,
                ApplicationVersion = (uint)Vk.MakeVersion(0, 1, 0),
                EngineVersion = (uint)Vk.MakeVersion(0, 1, 0),
                ApiVersion = (uint)Vk.Version13,
            };
            // Synchronization validation: lavapipe runs dispatches in order, so a missing barrier
            // only shows up through the layer's hazard tracking.
            var syncFeature = ValidationFeatureEnableEXT.SynchronizationValidationExt;
            var features = new ValidationFeaturesEXT
            {
                SType = StructureType.ValidationFeaturesExt,
                EnabledValidationFeatureCount = 1,
                PEnabledValidationFeatures = &syncFeature,
            };
            var info = new InstanceCreateInfo
            {
                SType = StructureType.InstanceCreateInfo,
                PNext = validation ? &features : null,
                Flags = portability ? InstanceCreateFlags.EnumeratePortabilityBitKhr : 0,
                PApplicationInfo = &app,
                EnabledExtensionCount = (uint)extensions.Count,
                PpEnabledExtensionNames = (byte**)extPtrs,
                EnabledLayerCount = validation ? 1u : 0u,
                PpEnabledLayerNames = (byte**)layerPtrs,
            };
            Instance instance;
            var r = vk.CreateInstance(&info, null, &instance);
            if (r == Result.ErrorIncompatibleDriver)
                throw new NoVulkanDeviceException("vkCreateInstance found no compatible Vulkan driver");
            r.Check("vkCreateInstance");
            var result = new VulkanInstance(vk, instance, sink, extensions);
            if (sink is not null) result.CreateMessenger(sink);
            return result;
        }
        finally
        {
            SilkMarshal.Free(appName);
            SilkMarshal.Free(extPtrs);
            SilkMarshal.Free(layerPtrs);
        }
    }

    /// <summary>Uses an instance the host application created; it is never destroyed here.</summary>
    public static VulkanInstance Wrap(Instance handle)
    {
        Vk vk;
        try { vk = Vk.GetApi(); }
        catch (Exception e) when (e is DllNotFoundException or FileNotFoundException or PlatformNotSupportedException)
        {
            throw new NoVulkanDeviceException($"The Vulkan loader could not be loaded: {e.Message}");
        }
        vk.CurrentInstance = handle;
        return new VulkanInstance(vk, handle, null, []) { _owned = false };
    }

    public IReadOnlyList<PhysicalDevice> PhysicalDevices()
    {
        uint count = 0;
        Vk.EnumeratePhysicalDevices(Handle, &count, null).Check("vkEnumeratePhysicalDevices");
        var devices = new PhysicalDevice[count];
        fixed (PhysicalDevice* p = devices) Vk.EnumeratePhysicalDevices(Handle, &count, p).Check("vkEnumeratePhysicalDevices");
        return devices;
    }

    public IntPtr GetProcAddress(string name)
    {
        var p = Vk.GetInstanceProcAddr(Handle, name);
        return (IntPtr)p.Handle;
    }

    private void CreateMessenger(ValidationSink sink)
    {
        _sinkHandle = GCHandle.Alloc(sink);
        var create = (delegate* unmanaged[Cdecl]<Instance, DebugUtilsMessengerCreateInfoEXT*, AllocationCallbacks*, DebugUtilsMessengerEXT*,
            Result>)
            GetProcAddress("vkCreateDebugUtilsMessengerEXT");
        if (create == null) throw new VulkanException("vkCreateDebugUtilsMessengerEXT is missing although VK_EXT_debug_utils is enabled.");
        var info = new DebugUtilsMessengerCreateInfoEXT
        {
            SType = StructureType.DebugUtilsMessengerCreateInfoExt,
            MessageSeverity = DebugUtilsMessageSeverityFlagsEXT.ErrorBitExt | DebugUtilsMessageSeverityFlagsEXT.WarningBitExt,
            MessageType = DebugUtilsMessageTypeFlagsEXT.GeneralBitExt | DebugUtilsMessageTypeFlagsEXT.ValidationBitExt
                | DebugUtilsMessageTypeFlagsEXT.PerformanceBitExt,
            PfnUserCallback = new PfnDebugUtilsMessengerCallbackEXT(
                (delegate* unmanaged[Cdecl]<DebugUtilsMessageSeverityFlagsEXT, DebugUtilsMessageTypeFlagsEXT,
                    DebugUtilsMessengerCallbackDataEXT*, void*, Silk.NET.Core.Bool32>)
                &ValidationSink.Callback),
            PUserData = (void*)GCHandle.ToIntPtr(_sinkHandle),
        };
        DebugUtilsMessengerEXT messenger;
        create(Handle, &info, null, &messenger).Check("vkCreateDebugUtilsMessengerEXT");
        _messenger = messenger;
    }

    private static HashSet<string> InstanceExtensionNames(Vk vk)
    {
        uint count = 0;
        vk.EnumerateInstanceExtensionProperties((byte*)null, &count, null).Check("vkEnumerateInstanceExtensionProperties");
        var props = new ExtensionProperties[count];
        fixed (ExtensionProperties* p = props) vk.EnumerateInstanceExtensionProperties((byte*)null, &count,
            p).Check("vkEnumerateInstanceExtensionProperties");
        var names = new HashSet<string>();
        foreach (var e in props) names.Add(SilkMarshal.PtrToString((nint)e.ExtensionName)!);
        return names;
    }

    private static HashSet<string> InstanceLayerNames(Vk vk)
    {
        uint count = 0;
        vk.EnumerateInstanceLayerProperties(&count, null).Check("vkEnumerateInstanceLayerProperties");
        var props = new LayerProperties[count];
        fixed (LayerProperties* p = props) vk.EnumerateInstanceLayerProperties(&count, p).Check("vkEnumerateInstanceLayerProperties");
        var names = new HashSet<string>();
        foreach (var l in props) names.Add(SilkMarshal.PtrToString((nint)l.LayerName)!);
        return names;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_messenger.Handle != 0)
        {
            var destroy = (delegate* unmanaged[Cdecl]<Instance, DebugUtilsMessengerEXT, AllocationCallbacks*, void>)
                GetProcAddress("vkDestroyDebugUtilsMessengerEXT");
            if (destroy != null) destroy(Handle, _messenger, null);
        }
        if (_owned) Vk.DestroyInstance(Handle, null);
        if (_sinkHandle.IsAllocated) _sinkHandle.Free();
        Vk.Dispose();
    }
}
