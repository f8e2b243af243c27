using VulkanCnn.Viewer.Overlay;

namespace VulkanCnn.Tests.Viewer;

/// <summary>The built-in 5x7 overlay font: table layout, padding, coverage, distinctness and the CPU lookup.</summary>
public sealed class BitmapFontTests
{
    private const int GlyphCount = BitmapFont.LastChar - BitmapFont.FirstChar + 1;

    [Fact]
    public void PackRows_has_eight_rows_per_glyph_and_the_padding_row_is_zero()
    {
        uint[] rows = BitmapFont.PackRows();
        Assert.Equal(95, GlyphCount);
        Assert.Equal(95 * 8, rows.Length);
        Assert.Equal(8, BitmapFont.RowsPerGlyph);
        for (int g = 0; g < GlyphCount; g++)
            Assert.Equal(0u, rows[g * BitmapFont.RowsPerGlyph + 7]);
    }

    [Fact]
    public void PackRows_returns_a_fresh_copy_each_time()
    {
        uint[] first = BitmapFont.PackRows();
        first[('A' - BitmapFont.FirstChar) * BitmapFont.RowsPerGlyph] = 0xFFFFFFFFu;
        uint[] second = BitmapFont.PackRows();
        Assert.NotSame(first, second);
        Assert.NotEqual(0xFFFFFFFFu, second[('A' - BitmapFont.FirstChar) * BitmapFont.RowsPerGlyph]);
    }

    [Fact]
    public void Space_is_blank()
    {
        uint[] rows = BitmapFont.PackRows();
        for (int r = 0; r < BitmapFont.RowsPerGlyph; r++)
            Assert.Equal(0u, rows[(' ' - BitmapFont.FirstChar) * BitmapFont.RowsPerGlyph + r]);
    }

    [Fact]
    public void Every_glyph_other_than_space_has_ink()
    {
        uint[] rows = BitmapFont.PackRows();
        for (int c = BitmapFont.FirstChar + 1; c <= BitmapFont.LastChar; c++)
        {
            uint any = 0;
            for (int r = 0; r < BitmapFont.GlyphHeight; r++)
                any |= rows[(c - BitmapFont.FirstChar) * BitmapFont.RowsPerGlyph + r];
            Assert.True(any != 0, $"glyph for '{(char)c}' (code {c}) is blank");
        }
    }

    [Fact]
    public void All_glyphs_are_pairwise_distinct()
    {
        uint[] rows = BitmapFont.PackRows();
        var seen = new Dictionary<string, char>();
        for (int c = BitmapFont.FirstChar; c <= BitmapFont.LastChar; c++)
        {
            string key = string.Join(",", rows.Skip((c - BitmapFont.FirstChar) * BitmapFont.RowsPerGlyph).Take(BitmapFont.RowsPerGlyph));
            Assert.False(seen.TryGetValue(key, out char other), $"glyphs '{other}' and '{(char)c}' are identical");
            seen[key] = (char)c;
        }
        Assert.Equal(95, seen.Count);
    }

    [Fact]
    public void No_row_uses_bits_above_bit_four()
    {
        uint mask = (1u << BitmapFont.GlyphWidth) - 1;
        Assert.Equal(0x1Fu, mask);
        uint[] rows = BitmapFont.PackRows();
        for (int i = 0; i < rows.Length; i++)
            Assert.True((rows[i] & ~mask) == 0, $"row {i % 8} of '{(char)(BitmapFont.FirstChar + i / 8)}' is 0x{rows[i]:X}");
    }

    [Fact]
    public void IsInk_agrees_with_PackRows_for_every_pixel()
    {
        uint[] rows = BitmapFont.PackRows();
        for (int c = BitmapFont.FirstChar; c <= BitmapFont.LastChar; c++)
            for (int y = 0; y < BitmapFont.GlyphHeight; y++)
            {
                uint row = rows[(c - BitmapFont.FirstChar) * BitmapFont.RowsPerGlyph + y];
                for (int x = 0; x < BitmapFont.GlyphWidth; x++)
                {
                    bool expected = ((row >> (BitmapFont.GlyphWidth - 1 - x)) & 1u) != 0;
                    Assert.True(expected == BitmapFont.IsInk((char)c, x, y), $"'{(char)c}' at ({x},{y})");
                }
            }
    }

    [Fact]
    public void Column_zero_is_the_most_significant_of_the_five_bits()
    {
        // 'L' is a full-height left stem with a full-width bottom bar.
        uint[] rows = BitmapFont.PackRows();
        int baseIndex = ('L' - BitmapFont.FirstChar) * BitmapFont.RowsPerGlyph;
        Assert.Equal(0b10000u, rows[baseIndex]);
        Assert.Equal(0b11111u, rows[baseIndex + 6]);
        Assert.True(BitmapFont.IsInk('L', 0, 0));
        Assert.False(BitmapFont.IsInk('L', 4, 0));
    }

    [Theory]
    [InlineData('I')]
    [InlineData('H')]
    [InlineData('O')]
    [InlineData('X')]
    [InlineData('A')]
    [InlineData('T')]
    public void Symmetric_letters_are_left_right_mirror_images(char c)
    {
        for (int y = 0; y < BitmapFont.GlyphHeight; y++)
            for (int x = 0; x < BitmapFont.GlyphWidth; x++)
                Assert.Equal(BitmapFont.IsInk(c, x, y), BitmapFont.IsInk(c, BitmapFont.GlyphWidth - 1 - x, y));
    }

    [Fact]
    public void Chars_outside_the_table_render_as_a_question_mark()
    {
        char[] outside = ['\0', '\n', (char)31, (char)127, 'é', '€', '\uFFFF'];
        foreach (char c in outside)
            for (int y = 0; y < BitmapFont.GlyphHeight; y++)
                for (int x = 0; x < BitmapFont.GlyphWidth; x++)
                    Assert.Equal(BitmapFont.IsInk('?', x, y), BitmapFont.IsInk(c, x, y));
    }

    [Fact]
    public void Pixels_outside_the_cell_are_never_ink()
    {
        Assert.False(BitmapFont.IsInk('#', -1, 3));
        Assert.False(BitmapFont.IsInk('#', BitmapFont.GlyphWidth, 3));
        Assert.False(BitmapFont.IsInk('#', 2, -1));
        Assert.False(BitmapFont.IsInk('#', 2, BitmapFont.GlyphHeight));
    }
}
