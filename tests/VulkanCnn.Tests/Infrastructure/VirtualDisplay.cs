using System.Diagnostics;

namespace VulkanCnn.Tests.Infrastructure;

/// <summary>
/// One Xvfb server (Debian xvfb, what xvfb-run starts) for the whole test run, started on first use on a free
/// display number; its DISPLAY is set for this process (GLFW reads it at initialisation) and passed to children.
/// </summary>
public static class VirtualDisplay
{
    private static readonly Lazy<string> Display = new(Start);
    private static Process? _server;

    [System.Runtime.InteropServices.DllImport("libc", CharSet = System.Runtime.InteropServices.CharSet.Ansi)]
    private static extern int setenv(string name, string value, int overwrite);

    /// <summary>":N" of the running Xvfb.</summary>
    public static string Name => Display.Value;

    private static string Start()
    {
        var info = new ProcessStartInfo("Xvfb") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-displayfd", "1", "-screen", "0", "1024x768x24", "-nolisten", "tcp" }) info.ArgumentList.Add(a);
        _server = Process.Start(info)
            ?? throw new InvalidOperationException("Xvfb did not start (Debian: apt-get install xvfb; ./build.sh does).");
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginErrorReadLine();
        var line = _server.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(20)) || line.Result is not { } number || !int.TryParse(number, out _))
            throw new InvalidOperationException("Xvfb did not report its display number.");
        string display = ":" + number.Trim();
        Environment.SetEnvironmentVariable("DISPLAY", display);
        // .NET keeps its own copy of the environment; GLFW reads the C library's.
        if (setenv("DISPLAY", display, 1) != 0) throw new InvalidOperationException("setenv(DISPLAY) failed.");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { _server.Kill(); } catch (InvalidOperationException) { } };
        return display;
    }
}

/// <summary>Runs the vkcnn CLI (the build next to the tests) as a child process.</summary>
public static class Vkcnn
{
    /// <summary>The CLI copied beside the tests by their project reference: always the same build as the tests.</summary>
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "vkcnn.dll");

    /// <summary>A start info for <c>dotnet vkcnn.dll args</c> with redirected output; <paramref name="display"/> null removes DISPLAY.
    /// In a self-contained publish of the tests (a machine without the SDK) it runs the <c>vkcnn</c> executable beside them.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, string? display)
    {
        bool selfContained = File.Exists(Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "coreclr.dll"
            : "libcoreclr.so"));
        var info = new ProcessStartInfo(selfContained ? Path.Combine(AppContext.BaseDirectory, "vkcnn")
            : "dotnet")
        { RedirectStandardOutput = true, RedirectStandardError = true };
        if (!selfContained) info.ArgumentList.Add(Dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        if (display is null) info.Environment.Remove("DISPLAY");
        else info.Environment["DISPLAY"] = display;
        info.Environment["COLUMNS"] = "200"; // keep Spectre tables on one line per row
        return info;
    }

    /// <summary>Runs to the end and returns exit code, stdout and stderr.</summary>
    public static (int Code, string Stdout, string Stderr) Run(IEnumerable<string> args, string? display, TimeSpan? timeout = null)
    {
        using var p = Process.Start(StartInfo(args, display))!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"vkcnn {string.Join(' ', args)} did not finish: {stdout.Result}{stderr.Result}");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
