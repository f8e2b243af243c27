using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using VulkanCnn.Cli.Commands;
using VulkanCnn.Tests.Infrastructure;

namespace VulkanCnn.Tests.Cli;

/// <summary>The vkcnn commands, invoked in process with their output captured.</summary>
[Collection(GpuCollection.Name)]
public sealed class CliTests
{
    private static (int Code, string Output) Invoke(Command command, params string[] args)
    {
        var root = new RootCommand { command };
        root.Options.Add(VulkanCnn.Cli.GlobalOptions.Device);
        root.Options.Add(VulkanCnn.Cli.GlobalOptions.Validation);
        var output = new StringWriter();
        var saved = Console.Out;
        var savedAnsi = AnsiConsole.Console;
        Console.SetOut(output);
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), ColorSystem = ColorSystemSupport.NoColors });
        try { return (root.Parse(args).Invoke(), output.ToString()); }
        finally { Console.SetOut(saved); AnsiConsole.Console = savedAnsi; }
    }

    [Fact]
    public void Devices_json_lists_llvmpipe_with_its_capabilities()
    {
        var (code, output) = Invoke(DevicesCommand.Create(), "devices", "--json");
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        var lavapipe = json.RootElement.EnumerateArray().Single(d => d.GetProperty("Name").GetString()!.Contains("llvmpipe"));
        Assert.Equal("Cpu", lavapipe.GetProperty("Type").GetString());
        Assert.True(lavapipe.GetProperty("Subgroup").GetProperty("Size").GetInt32() > 0);
        Assert.True(lavapipe.GetProperty("Limits").GetProperty("MaxStorageBufferRange").GetInt64() > 0);
        Assert.True(lavapipe.GetProperty("MemoryTypes").GetArrayLength() > 0);
    }

    [Fact]
    public void Devices_table_marks_the_selected_device()
    {
        var (code, output) = Invoke(DevicesCommand.Create(), "devices");
        Assert.Equal(0, code);
        Assert.Contains("llvmpipe", output);
        Assert.Contains("(selected)", output);
        Assert.Contains("Subgroup", output);
    }

    [Fact]
    public void Demo_prints_the_device_and_a_checked_result()
    {
        var (code, output) = Invoke(DemoCommand.Create(), "demo", "--size", "24", "--validation");
        Assert.True(code == 0, output);
        Assert.Contains("llvmpipe", output);
        Assert.Contains("OK", output);
        Assert.Contains("GFLOP/s", output);
    }
}
