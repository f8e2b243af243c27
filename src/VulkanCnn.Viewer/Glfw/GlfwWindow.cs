using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VulkanCnn.Viewer.Glfw;

/// <summary>No window can be opened here (no display, no GLFW, no Vulkan surface support); the message says what to do.</summary>
public sealed class DisplayUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A GLFW window without a client API (Vulkan draws into it). GLFW calls must come from the thread that
/// created the window; key presses are queued and read with <see cref="TakeKeys"/>.
/// </summary>
public sealed unsafe class GlfwWindow : IDisposable
{
    private static readonly object Gate = new();
    private static readonly ConcurrentDictionary<nint, GlfwWindow> Windows = new();
    private static int _initialised;
    private readonly ConcurrentQueue<int> _keys = new();
    private nint _handle;

    private GlfwWindow(nint handle) => _handle = handle;

    /// <summary>GLFW's code for Esc (other keys: digits and letters are their upper-case ASCII codes).</summary>
    public const int KeyEscape = GlfwNative.KeyEscape;

    /// <summary>Starts GLFW (once per process) and returns the instance extensions a Vulkan surface needs.</summary>
    public static IReadOnlyList<string> RequiredInstanceExtensions()
    {
        EnsureInitialised();
        uint count = 0;
        byte** names = GlfwNative.GetRequiredInstanceExtensions(&count);
        if (names is null || count == 0)
            throw new DisplayUnavailableException($"GLFW found no Vulkan surface support on this display " +
                $"({GlfwNative.LastError() ?? "no error reported"}).");
        var result = new List<string>((int)count);
        for (int i = 0; i < count; i++) result.Add(Marshal.PtrToStringUTF8((nint)names[i])!);
        return result;
    }

    /// <summary>Opens a resizable window of <paramref name="width"/>×<paramref name="height"/> screen units.</summary>
    public static GlfwWindow Create(int width, int height, string title)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        EnsureInitialised();
        GlfwNative.WindowHint(GlfwNative.ClientApi, GlfwNative.NoApi);
        GlfwNative.WindowHint(GlfwNative.Resizable, GlfwNative.True);
        nint handle = GlfwNative.CreateWindow(width, height, title, 0, 0);
        if (handle == 0) throw new DisplayUnavailableException($"GLFW could not open a window: " +
            $"{GlfwNative.LastError() ?? "no reason given"}.");
        var window = new GlfwWindow(handle);
        Windows[handle] = window;
        GlfwNative.SetKeyCallback(handle, &OnKey);
        return window;
    }

    public nint Handle => _handle != 0 ? _handle : throw new ObjectDisposedException(nameof(GlfwWindow));
    public bool ShouldClose => GlfwNative.WindowShouldClose(Handle) != 0;
    public bool IsIconified => GlfwNative.GetWindowAttrib(Handle, GlfwNative.Iconified) != 0;

    public (int Width, int Height) FramebufferSize
    {
        get
        {
            int w, h;
            GlfwNative.GetFramebufferSize(Handle, &w, &h);
            return (w, h);
        }
    }

    public void RequestClose() => GlfwNative.SetWindowShouldClose(Handle, GlfwNative.True);
    public void SetSize(int width, int height) => GlfwNative.SetWindowSize(Handle, width, height);
    public void SetTitle(string title) => GlfwNative.SetWindowTitle(Handle, title);

    /// <summary>Processes window events (key presses, resizes, close requests) without blocking.</summary>
    public static void PollEvents() => GlfwNative.PollEvents();

    /// <summary>Blocks up to <paramref name="seconds"/> for an event (used while minimised).</summary>
    public static void WaitEvents(double seconds) => GlfwNative.WaitEventsTimeout(seconds);

    /// <summary>GLFW key codes pressed since the last call (letters are their upper-case ASCII codes, Esc is 256).</summary>
    public IReadOnlyList<int> TakeKeys()
    {
        var keys = new List<int>();
        while (_keys.TryDequeue(out int k)) keys.Add(k);
        return keys;
    }

    /// <summary>Creates a VkSurfaceKHR for this window on <paramref name="instance"/>.</summary>
    public ulong CreateSurface(nint instance)
    {
        ulong surface;
        int result = GlfwNative.CreateWindowSurface(instance, Handle, 0, &surface);
        if (result != 0) throw new DisplayUnavailableException($"glfwCreateWindowSurface failed (VkResult {result}): " +
            $"{GlfwNative.LastError() ?? "no reason given"}.");
        return surface;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnKey(nint window, int key, int scancode, int action, int mods)
    {
        if (action == GlfwNative.Press && Windows.TryGetValue(window, out var w)) w._keys.Enqueue(key);
    }

    private static void EnsureInitialised()
    {
        lock (Gate)
        {
            if (_initialised > 0) return;
            int ok;
            try { ok = GlfwNative.Init(); }
            catch (DllNotFoundException e) { throw new DisplayUnavailableException(e.Message, e); }
            if (ok != GlfwNative.True)
                throw new DisplayUnavailableException(
                    $"No display: GLFW could not start ({GlfwNative.LastError() ?? "no reason given"}). " +
                    "Set DISPLAY (or run under `xvfb-run -a`), or use --headless to write PNG frames instead.");
            _initialised = 1;
        }
    }

    /// <summary>Destroys the window. GLFW itself stays initialised for the process (terminating it while another
    /// window or surface is alive would invalidate them).</summary>
    public void Dispose()
    {
        if (_handle == 0) return;
        Windows.TryRemove(_handle, out _);
        GlfwNative.DestroyWindow(_handle);
        _handle = 0;
    }
}
