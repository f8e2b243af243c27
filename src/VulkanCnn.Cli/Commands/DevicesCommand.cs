using Spectre.Console;
using System.CommandLine;
using System.Text.Json;
using VulkanCnn.Vulkan;

namespace VulkanCnn.Cli.Commands;

/// <summary><c>vkcnn devices [--json]</c>: every Vulkan device with its compute capabilities.</summary>
internal static class DevicesCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the capability report as JSON." };
        var command = new Command("devices", "List Vulkan devices and their compute capabilities.") { json };
        command.SetAction(result =>
        {
            var devices = GpuDevice.EnumerateDevices();
            if (result.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(devices, new JsonSerializerOptions { WriteIndented = true }));
                return 0;
            }
            if (devices.Count == 0)
            {
                AnsiConsole.MarkupLine("[red]No Vulkan device found.[/] " + Markup.Escape(NoVulkanDeviceException.InstallHint));
                return 1;
            }
            string chosen = DeviceSelector.Choose(devices, result.GetValue(GlobalOptions.Device)).Name;
            foreach (var d in devices) AnsiConsole.Write(Describe(d, d.Name == chosen));
            return 0;
        });
        return command;
    }

    private static Table Describe(DeviceInfo d, bool chosen)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"[bold]{d.Index}: {Markup.Escape(d.Name)}[/]{(chosen ? " [green](selected)[/]" : "")}")
            .AddColumn("Property").AddColumn("Value");
        void Row(string k, string v) => table.AddRow(Markup.Escape(k), Markup.Escape(v));
        var l = d.Limits;
        Row("Type", d.Type.ToString());
        Row("Driver", $"{d.DriverName} {d.DriverInfo} (version 0x{d.DriverVersion:X})");
        Row("Vulkan API", d.ApiVersion);
        Row("Vendor / device id", $"0x{d.VendorId:X4} / 0x{d.DeviceId:X4}");
        Row("Device UUID", d.DeviceUuid);
        Row("Max workgroup size", $"{string.Join(" x ", l.MaxWorkGroupSize)} ({l.MaxWorkGroupInvocations} invocations)");
        Row("Max workgroup count", string.Join(" x ", l.MaxWorkGroupCount));
        Row("Shared memory", $"{l.MaxSharedMemoryBytes / 1024} KiB");
        Row("Max storage buffer", Bytes(l.MaxStorageBufferRange));
        Row("Max allocation", Bytes(l.MaxMemoryAllocationSize));
        Row("Push constants", $"{l.MaxPushConstantsBytes} bytes");
        Row("Timestamps", $"period {l.TimestampPeriodNs} ns, compute {(l.TimestampComputeAndGraphics ? "yes" : "per queue")}");
        Row("Subgroup",
            $"size {d.Subgroup.Size}{(d.Subgroup.SupportedInCompute ? "" : " (not in compute)")}: " +
                $"{string.Join(", ", d.Subgroup.Operations)}");
        var f = d.Features;
        Row("Numeric features", string.Join(", ", new[]
        {
            f.ShaderFloat16 ? "fp16 arithmetic" : null, f.StorageBuffer16BitAccess ? "16-bit storage" : null,
            f.ShaderInt8 ? "int8 arithmetic" : null, f.StorageBuffer8BitAccess ? "8-bit storage" : null,
            f.ShaderInt16 ? "int16" : null, f.ShaderInt64 ? "int64" : null, f.ShaderFloat64 ? "fp64" : null,
        }.Where(s => s is not null)));
        Row("Cooperative matrices", d.CooperativeMatrices.Count == 0 ? "none (VK_KHR_cooperative_matrix not offered)"
            : string.Join("\n", d.CooperativeMatrices));
        foreach (var h in d.MemoryHeaps) Row($"Memory heap {h.Index}", $"{Bytes(h.SizeBytes)}{(h.DeviceLocal ? " device-local" : "")}");
        foreach (var t in d.MemoryTypes) Row($"Memory type {t.Index}", $"heap {t.HeapIndex}: {string.Join(" | ", t.Flags)}");
        foreach (var q in d.QueueFamilies) Row($"Queue family {q.Index}",
            $"{q.QueueCount} x {string.Join(" | ", q.Flags)}, timestamp bits {q.TimestampValidBits}");
        return table;
    }

    internal static string Bytes(ulong b) => b >= 1UL << 30 ? $"{b / (double)(1UL << 30):0.##} GiB" : $"{b / (double)(1UL << 20):0.##} MiB";
}
