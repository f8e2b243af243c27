namespace VulkanCnn.Viewer.Overlay;

/// <summary>
/// What the GPU draws over a frame: translucent rectangles and lines of bitmap-font text, packed into the
/// word layout <c>view_compose.comp</c> reads (header, 32 rectangles of 5 words, 24 lines of 20 words).
/// Built on the CPU each frame (a few hundred words); nothing is rasterised on the CPU.
/// </summary>
public sealed class FrameOverlay
{
    public const int MaxRects = 32, MaxLines = 24, MaxChars = 64;
    private const int RectBase = 4, RectWords = 5, LineBase = RectBase + RectWords * MaxRects, LineWords = 20;
    public const int WordCount = LineBase + LineWords * MaxLines;

    private readonly uint[] _words = new uint[WordCount];

    public int RectCount => (int)_words[0];
    public int LineCount => (int)_words[1];
    /// <summary>The packed words, as uploaded to the GPU.</summary>
    public ReadOnlySpan<uint> Words => _words;

    /// <summary>An RGBA colour; <paramref name="a"/> is the rectangle's opacity (text is opaque).</summary>
    public static uint Color(byte r, byte g, byte b, byte a = 255) => r | (uint)g << 8 | (uint)b << 16 | (uint)a << 24;

    public void Clear() => Array.Clear(_words);

    /// <summary>A rectangle [x0, x1) × [y0, y1), blended over what is below with the colour's alpha. Extra ones beyond 32 are
    /// dropped.</summary>
    public void Rect(int x0, int y0, int x1, int y1, uint color)
    {
        int n = RectCount;
        if (n == MaxRects || x1 <= x0 || y1 <= y0) return;
        int b = RectBase + n * RectWords;
        _words[b] = (uint)Math.Max(0, x0); _words[b + 1] = (uint)Math.Max(0, y0);
        _words[b + 2] = (uint)Math.Max(0, x1); _words[b + 3] = (uint)Math.Max(0, y1);
        _words[b + 4] = color;
        _words[0] = (uint)(n + 1);
    }

    /// <summary>One line of text with its top-left corner at (x, y); each glyph is 5×7 pixels times
    /// <paramref name="scale"/> on a 6×8 cell. Longer text is cut at 64 characters; lines beyond 24 are dropped.</summary>
    public void Text(int x, int y, string text, uint color, int scale = 1)
    {
        int n = LineCount;
        if (n == MaxLines || text.Length == 0) return;
        scale = Math.Clamp(scale, 1, 255);
        int length = Math.Min(text.Length, MaxChars);
        int b = LineBase + n * LineWords;
        _words[b] = (uint)Math.Max(0, x); _words[b + 1] = (uint)Math.Max(0, y);
        _words[b + 2] = (uint)scale | (uint)length << 8;
        _words[b + 3] = color;
        for (int w = 0; w < 16; w++) _words[b + 4 + w] = 0;
        for (int k = 0; k < length; k++)
        {
            char c = text[k];
            uint code = c is >= (char)BitmapFont.FirstChar and <= (char)BitmapFont.LastChar ? c : '?';
            _words[b + 4 + k / 4] |= code << (k % 4 * 8);
        }
        _words[1] = (uint)(n + 1);
    }

    /// <summary>Rectangle <paramref name="index"/> as [x0, x1) × [y0, y1).</summary>
    public (int X0, int Y0, int X1, int Y1) RectBounds(int index)
    {
        int b = RectBase + index * RectWords;
        return ((int)_words[b], (int)_words[b + 1], (int)_words[b + 2], (int)_words[b + 3]);
    }

    /// <summary>The pixels line <paramref name="index"/> can cover, as [x0, x1) × [y0, y1).</summary>
    public (int X0, int Y0, int X1, int Y1) LineBounds(int index)
    {
        int b = LineBase + index * LineWords;
        int x = (int)_words[b], y = (int)_words[b + 1], scale = (int)(_words[b + 2] & 0xFF), length = (int)(_words[b + 2] >> 8);
        return (x, y, x + length * 6 * scale, y + 7 * scale);
    }

    /// <summary>Width in pixels of <paramref name="length"/> characters at <paramref name="scale"/>.</summary>
    public static int TextWidth(int length, int scale = 1) => Math.Min(length, MaxChars) * 6 * scale;
}
