using Spectre.Console;
using VulkanCnn.Compiler;
using VulkanCnn.Ir;

namespace VulkanCnn.Cli.Commands;

/// <summary>The top entries of a GPU-time profile as a table (<c>vkcnn bench</c>, <c>vkcnn train --profile</c>).</summary>
internal static class ProfileTable
{
    public static void Write(ProfileReport profile, string title, int top)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(title)
            .AddColumn("layer").AddColumn("op").AddColumn("variant").AddColumn("kernels")
            .AddColumn("ms").AddColumn("share").AddColumn("GFLOP/s");
        foreach (var l in profile.Layers.OrderByDescending(l => l.Milliseconds).Take(top))
            table.AddRow(Markup.Escape(l.Name), Markup.Escape(l.OpType), Markup.Escape(l.Variant ?? "-"), Markup.Escape(l.Kernels),
                $"{l.Milliseconds:0.000}", $"{l.Share:P1}",
                l.GflopPerSecond is { } g ? $"{g:0.0}" : "-");
        AnsiConsole.Write(table);
    }
}
