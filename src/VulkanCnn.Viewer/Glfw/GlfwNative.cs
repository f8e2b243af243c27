using System.Reflection;
using System.Runtime.InteropServices;

namespace VulkanCnn.Viewer.Glfw;

/// <summary>
/// The few GLFW 3.3 entry points the viewer needs, bound by P/Invoke (Silk.NET.GLFW is not available here).
/// The library name resolves to libglfw.so.3 (Debian's libglfw3), glfw3.dll or libglfw.3.dylib.
/// </summary>
internal static unsafe partial class GlfwNative
{
    private const string Library = "glfw";

    public const int True = 1, False = 0;
    public const int ClientApi = 0x00022001, NoApi = 0, Resizable = 0x00020003, Iconified = 0x00020002, Visible = 0x00020004;
    public const int Press = 1, Repeat = 2;
    public const int KeyEscape = 256, Key0 = 48, Key1 = 49, Key9 = 57, KeyS = 83, KeyL = 76, KeyO = 79;
    public const int NoError = 0, PlatformError = 0x00010008, ApiUnavailable = 0x00010006;

    static GlfwNative() => NativeLibrary.SetDllImportResolver(typeof(GlfwNative).Assembly, Resolve);

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Library) return IntPtr.Zero;
        string[] candidates = OperatingSystem.IsWindows() ? ["glfw3.dll", "glfw.dll"]
            : OperatingSystem.IsMacOS()
                ? ["libglfw.3.dylib", "libglfw.dylib", "/opt/homebrew/lib/libglfw.3.dylib", "/usr/local/lib/libglfw.3.dylib"]
            : ["libglfw.so.3", "libglfw.so"];
        foreach (var candidate in candidates)
            if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle)) return handle;
        throw new DllNotFoundException($"GLFW 3 was not found (tried {string.Join(", ", candidates)}). " +
            "Install it: Debian/Ubuntu `sudo apt-get install libglfw3` (./build.sh does), macOS `brew install glfw`, Windows: put " +
                "glfw3.dll next to vkcnn.");
    }

    [LibraryImport(Library, EntryPoint = "glfwInit")] public static partial int Init();
    [LibraryImport(Library, EntryPoint = "glfwTerminate")] public static partial void Terminate();
    [LibraryImport(Library, EntryPoint = "glfwGetError")] public static partial int GetError(byte** description);
    [LibraryImport(Library, EntryPoint = "glfwWindowHint")] public static partial void WindowHint(int hint, int value);
    [LibraryImport(Library, EntryPoint = "glfwCreateWindow", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint CreateWindow(int width, int height, string title, nint monitor, nint share);
    [LibraryImport(Library, EntryPoint = "glfwDestroyWindow")] public static partial void DestroyWindow(nint window);
    [LibraryImport(Library, EntryPoint = "glfwWindowShouldClose")] public static partial int WindowShouldClose(nint window);
    [LibraryImport(Library, EntryPoint = "glfwSetWindowShouldClose")]
    public static partial void SetWindowShouldClose(nint window,
        int value);
    [LibraryImport(Library, EntryPoint = "glfwSetWindowTitle", StringMarshalling = StringMarshalling.Utf8)]
    public static partial void SetWindowTitle(nint window, string title);
    [LibraryImport(Library, EntryPoint = "glfwPollEvents")] public static partial void PollEvents();
    [LibraryImport(Library, EntryPoint = "glfwWaitEventsTimeout")] public static partial void WaitEventsTimeout(double seconds);
    [LibraryImport(Library, EntryPoint = "glfwGetFramebufferSize")]
    public static partial void GetFramebufferSize(nint window, int* width,
        int* height);
    [LibraryImport(Library, EntryPoint = "glfwSetWindowSize")] public static partial void SetWindowSize(nint window, int width, int height);
    [LibraryImport(Library, EntryPoint = "glfwGetWindowAttrib")] public static partial int GetWindowAttrib(nint window, int attribute);
    [LibraryImport(Library, EntryPoint = "glfwSetKeyCallback")]
    public static partial nint SetKeyCallback(nint window, delegate* unmanaged[Cdecl]<nint, int, int, int, int, void> callback);
    [LibraryImport(Library, EntryPoint = "glfwVulkanSupported")] public static partial int VulkanSupported();
    [LibraryImport(Library,
        EntryPoint = "glfwGetRequiredInstanceExtensions")]
    public static partial byte** GetRequiredInstanceExtensions(uint* count);
    [LibraryImport(Library, EntryPoint = "glfwCreateWindowSurface")]
    public static partial int CreateWindowSurface(nint instance, nint window, nint allocator, ulong* surface);

    /// <summary>The last GLFW error as "description (0xcode)", or null.</summary>
    public static string? LastError()
    {
        byte* description = null;
        int code = GetError(&description);
        if (code == NoError) return null;
        string text = description is null ? "unknown error" : Marshal.PtrToStringUTF8((nint)description) ?? "unknown error";
        return $"{text} (0x{code:X5})";
    }
}
