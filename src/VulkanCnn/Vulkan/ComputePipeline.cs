using Silk.NET.Vulkan;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace VulkanCnn.Vulkan;

/// <summary>
/// The key of a compute pipeline: everything it is made of (the device creates one pipeline per key and keeps it in the
/// on-disk pipeline cache). Specialisation constants 0, 1, 2 are the workgroup size
/// (shaders declare <c>local_size_x_id = 0</c> …), 3 is the fused activation
/// (shaders/common/activation_kinds.glsl) and <see cref="Constants"/> fill ids 4, 5, ….
/// </summary>
public sealed record PipelineKey(string Shader, int BufferCount, int PushConstantBytes, uint LocalX, uint LocalY = 1, uint LocalZ = 1)
{
    public IReadOnlyList<uint> Constants { get; init; } = [];
    /// <summary>Specialisation constant 3: the fused activation's code in shaders/common/activation_kinds.glsl
    /// (the operators' <c>ActivationKind</c>; this layer does not know what the codes mean).</summary>
    public uint Activation { get; init; }

    internal string Key =>
        $"{Shader}|{BufferCount}|{PushConstantBytes}|{LocalX},{LocalY},{LocalZ}|{Activation}|{string.Join(",", Constants)}";

    internal uint[] SpecializationWords() => [LocalX, LocalY, LocalZ, Activation, .. Constants];
}

/// <summary>
/// A compute pipeline with its layouts. Created once per description and owned by the device
/// (<see cref="GpuDevice.GetPipeline"/>); seeded from and saved to the on-disk pipeline cache.
/// </summary>
public sealed unsafe class ComputePipeline
{
    private readonly GpuDevice _device;

    internal ComputePipeline(GpuDevice device, PipelineKey description, PipelineDiskCache? diskCache = null)
    {
        diskCache ??= device.PipelineCache;
        _device = device;
        Description = description;
        if (description.PushConstantBytes > device.Info.Limits.MaxPushConstantsBytes)
            throw new ArgumentException($"Kernel '{description.Shader}' needs {description.PushConstantBytes} push-constant bytes; the " +
                $"device allows {device.Info.Limits.MaxPushConstantsBytes}.");
        uint invocations = description.LocalX * description.LocalY * description.LocalZ;
        if (invocations == 0 || invocations > device.Info.Limits.MaxWorkGroupInvocations)
            throw new ArgumentException($"Kernel '{description.Shader}' workgroup " +
                $"{description.LocalX}x{description.LocalY}x{description.LocalZ} exceeds the device limit of " +
                    $"{device.Info.Limits.MaxWorkGroupInvocations} invocations.");

        var vk = device.Vk;
        byte[] spirv = ShaderLibrary.GetSpirv(description.Shader);
        byte[] hash = ShaderLibrary.Hash(description.Shader);
        var words = description.SpecializationWords();
        // The push-constant layout is a contract between C# and GLSL: a struct that drifted from the shader's block fails here.
        (int pushBytes, Access) = ShaderInterface.Of(description.Shader, description.BufferCount);
        if (pushBytes != description.PushConstantBytes)
            throw new ArgumentException($"Kernel '{description.Shader}' declares a {pushBytes}-byte push-constant block; the " +
                $"description gives {description.PushConstantBytes} bytes.");
        var stopwatch = Stopwatch.StartNew();

        ShaderModule module;
        fixed (byte* code = spirv)
        {
            var info = new ShaderModuleCreateInfo
            {
                SType = StructureType.ShaderModuleCreateInfo,
                CodeSize = (nuint)spirv.Length,
                PCode = (uint*)code
            };
            vk.CreateShaderModule(device.Handle, &info, null, &module).Check($"vkCreateShaderModule({description.Shader})");
        }
        Module = module;

        var bindings = new DescriptorSetLayoutBinding[description.BufferCount];
        for (int i = 0; i < bindings.Length; i++)
            bindings[i] = new DescriptorSetLayoutBinding((uint)i, DescriptorType.StorageBuffer, 1, ShaderStageFlags.ComputeBit);
        fixed (DescriptorSetLayoutBinding* pb = bindings)
        {
            var info = new DescriptorSetLayoutCreateInfo
            {
                SType = StructureType.DescriptorSetLayoutCreateInfo,
                BindingCount = (uint)bindings.Length,
                PBindings = pb
            };
            DescriptorSetLayout layout;
            vk.CreateDescriptorSetLayout(device.Handle, &info, null, &layout).Check("vkCreateDescriptorSetLayout");
            SetLayout = layout;
        }

        var setLayout = SetLayout;
        var range = new PushConstantRange(ShaderStageFlags.ComputeBit, 0, (uint)description.PushConstantBytes);
        var layoutInfo = new PipelineLayoutCreateInfo
        {
            SType = StructureType.PipelineLayoutCreateInfo,
            SetLayoutCount = 1,
            PSetLayouts = &setLayout,
            PushConstantRangeCount = description.PushConstantBytes > 0 ? 1u : 0u,
            PPushConstantRanges = &range,
        };
        PipelineLayout pipelineLayout;
        vk.CreatePipelineLayout(device.Handle, &layoutInfo, null, &pipelineLayout).Check("vkCreatePipelineLayout");
        Layout = pipelineLayout;

        var cachePath = diskCache.PathFor(description.Shader, hash, MemoryMarshal.AsBytes(words.AsSpan()));
        var (cache, status) = diskCache.Open(cachePath, hash);
        CacheStatus = status;
        CachePath = cachePath;
        var setup = stopwatch.Elapsed;
        _setupTime = setup;
        // The driver's compile (the slow part: tens of ms per pipeline on lavapipe even from a warm cache) runs on the thread
        // pool, so a plan's pipelines compile side by side while its other kernels are built; the handle is awaited when a
        // recording binds it. A failure surfaces there, naming the shader.
        _creation = Task.Run(() =>
        {
            var clock = Stopwatch.StartNew();
            try { return (Create(device, description, Module, Layout, words, cache), setup + clock.Elapsed); }
            finally
            {
                if (status != PipelineCacheStatus.Hit) diskCache.Save(cachePath, cache, hash);
                diskCache.Destroy(cache);
            }
        });
    }

    private static Pipeline Create(GpuDevice device, PipelineKey description, ShaderModule module, PipelineLayout layout, uint[] words,
        PipelineCache cache)
    {
        var entries = new SpecializationMapEntry[words.Length];
        for (int i = 0; i < words.Length; i++) entries[i] = new SpecializationMapEntry((uint)i, (uint)(i * 4), 4);
        fixed (SpecializationMapEntry* pe = entries)
        fixed (uint* pw = words)
        {
            var spec = new SpecializationInfo((uint)entries.Length, pe, (nuint)(words.Length * 4), pw);
            var entry = (byte*)Marshal.StringToHGlobalAnsi("main");
            try
            {
                var stage = new PipelineShaderStageCreateInfo
                {
                    SType = StructureType.PipelineShaderStageCreateInfo,
                    Stage = ShaderStageFlags.ComputeBit,
                    Module = module,
                    PName = entry,
                    PSpecializationInfo = &spec,
                };
                var info = new ComputePipelineCreateInfo
                {
                    SType = StructureType.ComputePipelineCreateInfo,
                    Stage = stage,
                    Layout = layout
                };
                Pipeline pipeline;
                device.Vk.CreateComputePipelines(device.Handle, cache, 1, &info, null,
                    &pipeline).Check($"vkCreateComputePipelines({description.Shader})");
                return pipeline;
            }
            finally { Marshal.FreeHGlobal((IntPtr)entry); }
        }
    }

    private readonly Task<(Pipeline Handle, TimeSpan Time)> _creation;
    private readonly TimeSpan _setupTime;

    public PipelineKey Description { get; }
    /// <summary>What the shader may do with each binding (from its SPIR-V): recordings put barriers only where accesses conflict.</summary>
    internal IReadOnlyList<BufferAccess> Access { get; }
    /// <summary>Whether the on-disk cache seeded this pipeline.</summary>
    public PipelineCacheStatus CacheStatus { get; }
    /// <summary>Wall time of shader-module + pipeline creation, cache lookup included (waits for the creation to finish; a
    /// failed creation reports the setup time only, and its error surfaces where the pipeline is bound).</summary>
    public TimeSpan CreationTime
    {
        get
        {
            ((IAsyncResult)_creation).AsyncWaitHandle.WaitOne();
            return _creation.IsCompletedSuccessfully ? _creation.Result.Time : _setupTime;
        }
    }

    /// <summary>Whether the driver's compile has finished with an error (false while it runs).</summary>
    internal bool CreationFailed => _creation.IsFaulted || _creation.IsCanceled;
    public string? CachePath { get; }
    /// <summary>The pipeline, once the driver has compiled it (waits; rethrows a failed creation).</summary>
    internal Pipeline Handle => _creation.GetAwaiter().GetResult().Handle;
    internal PipelineLayout Layout { get; }
    internal DescriptorSetLayout SetLayout { get; }
    internal ShaderModule Module { get; }

    internal void Destroy()
    {
        var vk = _device.Vk;
        // A creation still running (or failed) is waited for: its handle, if any, is destroyed with the rest.
        try { _creation.Wait(); }
        catch (AggregateException) { }
        if (_creation.IsCompletedSuccessfully) vk.DestroyPipeline(_device.Handle, _creation.Result.Handle, null);
        vk.DestroyPipelineLayout(_device.Handle, Layout, null);
        vk.DestroyDescriptorSetLayout(_device.Handle, SetLayout, null);
        vk.DestroyShaderModule(_device.Handle, Module, null);
    }
}
