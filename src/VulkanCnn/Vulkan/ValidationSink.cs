using Silk.NET.Core;
using Silk.NET.Vulkan;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VulkanCnn.Vulkan;

/// <summary>Collects what the validation layer reports through VK_EXT_debug_utils; thread-safe.</summary>
public sealed class ValidationSink
{
    private readonly object _gate = new();
    private readonly List<string> _errors = new();
    private readonly Action<string> _log;
    private int _warnings;

    internal ValidationSink(Action<string> log) => _log = log;

    public int ErrorCount { get { lock (_gate) return _errors.Count; } }
    public int WarningCount { get { lock (_gate) return _warnings; } }

    /// <summary>Error messages since <paramref name="fromIndex"/> (use <see cref="ErrorCount"/> as a mark).</summary>
    public IReadOnlyList<string> ErrorsSince(int fromIndex)
    {
        lock (_gate) return _errors.Skip(fromIndex).ToList();
    }

    internal void Report(DebugUtilsMessageSeverityFlagsEXT severity, string message)
    {
        if (severity.HasFlag(DebugUtilsMessageSeverityFlagsEXT.ErrorBitExt))
        {
            lock (_gate) _errors.Add(message);
            _log("[vulkan validation error] " + message);
        }
        else if (severity.HasFlag(DebugUtilsMessageSeverityFlagsEXT.WarningBitExt))
        {
            lock (_gate) _warnings++;
            _log("[vulkan validation warning] " + message);
        }
    }

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    internal static unsafe Bool32 Callback(DebugUtilsMessageSeverityFlagsEXT severity, DebugUtilsMessageTypeFlagsEXT types,
        DebugUtilsMessengerCallbackDataEXT* data, void* userData)
    {
        try
        {
            if (GCHandle.FromIntPtr((IntPtr)userData).Target is ValidationSink sink)
            {
                string id = Marshal.PtrToStringUTF8((IntPtr)data->PMessageIdName) ?? "";
                string msg = Marshal.PtrToStringUTF8((IntPtr)data->PMessage) ?? "";
                sink.Report(severity, id.Length > 0 && !msg.Contains(id) ? $"{id}: {msg}" : msg);
            }
        }
        catch
        {
            // Never let an exception cross into native code.
        }
        return new Bool32(false);
    }
}
