using Spectre.Console;
using System.Diagnostics;
using VulkanCnn.Compiler;

namespace VulkanCnn.Cli.Commands;

/// <summary>
/// Time to the first result, phase by phase (<c>vkcnn run --verbose</c>, <c>vkcnn bench</c>): process start (the .NET
/// runtime and the CLI up to the command), the model import, the Vulkan instance and device, the session's compile split
/// as <see cref="CompileTimes"/> reports it, and the first run.
/// </summary>
internal sealed class StartupClock
{
    private readonly List<(string Phase, TimeSpan Time)> _phases = [];
    private CompileTimes? _compile;

    public StartupClock() => _phases.Add(("process start (runtime, CLI)", SinceProcessStart()));

    /// <summary>Time since the process was created. On Linux from /proc (both clocks count from boot, to 10 ms):
    /// Process.StartTime derives from the boot time in whole seconds, which can be off by most of one.</summary>
    private static TimeSpan SinceProcessStart()
    {
        try
        {
            string stat = File.ReadAllText("/proc/self/stat");
            // Fields after the command name (which may hold spaces) start at its closing parenthesis; starttime is field 22.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            double started = long.Parse(fields[19], System.Globalization.CultureInfo.InvariantCulture) / 100.0;
            double uptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(Math.Max(0, uptime - started));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            using var self = Process.GetCurrentProcess();
            return DateTime.Now - self.StartTime;
        }
    }

    public T Time<T>(string phase, Func<T> work)
    {
        var clock = Stopwatch.StartNew();
        var result = work();
        _phases.Add((phase, clock.Elapsed));
        return result;
    }

    /// <summary>Times the compile and keeps the session's own breakdown of it.</summary>
    public Session Compile(Func<Session> compile)
    {
        var session = Time("compile", compile);
        _compile = session.CompileTimes;
        return session;
    }

    public void Write()
    {
        var table = new Table().Border(TableBorder.Rounded).Title("time to first result").AddColumn("phase").AddColumn("ms");
        foreach (var (phase, time) in _phases)
        {
            table.AddRow(Markup.Escape(phase), $"{time.TotalMilliseconds:0.0}");
            if (phase != "compile" || _compile is not { } c) continue;
            table.AddRow("  passes and shape inference", $"{c.Passes.TotalMilliseconds:0.0}");
            table.AddRow("  buffers and weight upload", $"{c.Weights.TotalMilliseconds:0.0}");
            table.AddRow("  kernels (operators, weight repacking)", $"{c.Kernels.TotalMilliseconds:0.0}");
            table.AddRow("  command recording (waits for pipelines)", $"{c.Recording.TotalMilliseconds:0.0}");
            table.AddRow($"  [grey]{c.PipelinesCreated} pipelines compiled on worker threads, overlapped[/]",
                $"[grey]({c.Pipelines.TotalMilliseconds:0.0})[/]");
        }
        table.AddRow("[bold]total[/]", $"[bold]{_phases.Sum(p => p.Time.TotalMilliseconds):0.0}[/]");
        AnsiConsole.Write(table);
    }
}
