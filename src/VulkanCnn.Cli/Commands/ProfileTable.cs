using Spectre.Console;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;

namespace VulkanCnn.Cli.Commands;

/// <summary>The top entries of a GPU-time profile as a table (<c>vkcnn bench</c>, <c>vkcnn train --profile</c>).</summary>
internal static class ProfileTable
{
    public static void Write(ProfileReport profile, string title, int top)
    {
        // A storage column only where some layer is not plain fp32 (a session asked for fp16).
        bool mixed = profile.Layers.Any(l => l.Storage != DataType.Float32 || l.Fp32Reason is not null);
        var table = new Table().Border(TableBorder.Rounded).Title(title)
            .AddColumn("layer").AddColumn("op").AddColumn("variant").AddColumn("kernels")
            .AddColumn("ms").AddColumn("share").AddColumn("GFLOP/s");
        if (mixed) table.AddColumn("storage");
        foreach (var l in profile.Layers.OrderByDescending(l => l.Milliseconds).Take(top))
        {
            string[] cells = [Markup.Escape(l.Name), Markup.Escape(l.OpType), Markup.Escape(l.Variant ?? "-"), Markup.Escape(l.Kernels),
                $"{l.Milliseconds:0.000}", $"{l.Share:P1}", l.GflopPerSecond is { } g ? $"{g:0.0}" : "-"];
            table.AddRow(mixed ? [.. cells, Markup.Escape(l.Storage == DataType.Float16 ? "fp16"
                : l.Fp32Reason is { } r ? $"fp32 ({r})" : "fp32")] : cells);
        }
        AnsiConsole.Write(table);
    }
}
