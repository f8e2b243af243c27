namespace VulkanCnn.Imaging;

/// <summary>
/// Parses the Python dict literal of a .npy header, e.g.
/// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }</c>. Only what NumPy writes is
/// accepted: string keys, a string descr, True/False and a tuple of non-negative ints.
/// </summary>
internal sealed class NpyHeaderParser(string text, string source)
{
    private int _pos;

    public (string Descr, bool FortranOrder, int[] Shape) Parse()
    {
        string? descr = null;
        bool? fortran = null;
        int[]? shape = null;
        SkipSpace();
        Expect('{');
        while (true)
        {
            SkipSpace();
            if (Peek() == '}') { _pos++; break; }
            string key = ReadString();
            SkipSpace();
            Expect(':');
            SkipSpace();
            switch (key)
            {
                case "descr" when descr is null:
                    if (Peek() is '[' or '{') throw Fail("structured dtypes (a list or dict 'descr') are not supported");
                    descr = ReadString();
                    break;
                case "fortran_order" when fortran is null:
                    fortran = ReadBool();
                    break;
                case "shape" when shape is null:
                    shape = ReadShape();
                    break;
                case "descr" or "fortran_order" or "shape":
                    throw Fail($"key '{key}' appears twice");
                default:
                    throw Fail($"unexpected key '{key}' (a .npy header has exactly 'descr', 'fortran_order' and 'shape')");
            }
            SkipSpace();
            if (Peek() == ',') { _pos++; continue; }
            SkipSpace();
            Expect('}');
            break;
        }
        SkipSpace();
        if (_pos != text.Length) throw Fail("unexpected text after the header dict");
        if (descr is null || fortran is null || shape is null)
            throw Fail("the header must define 'descr', 'fortran_order' and 'shape'");
        return (descr, fortran.Value, shape);
    }

    private int[] ReadShape()
    {
        Expect('(');
        var dims = new List<int>();
        bool trailingComma = false;
        while (true)
        {
            SkipSpace();
            if (Peek() == ')') { _pos++; break; }
            if (dims.Count == NpyFile.MaxRank) throw Fail($"shape has more than {NpyFile.MaxRank} dimensions");
            dims.Add(ReadDimension());
            SkipSpace();
            trailingComma = Peek() == ',';
            if (trailingComma) { _pos++; continue; }
            Expect(')');
            break;
        }
        // "(3)" is the integer 3 in Python, not a 1-tuple.
        if (dims.Count == 1 && !trailingComma) throw Fail("'shape' must be a tuple; a one-dimensional shape is written (n,)");
        return [.. dims];
    }

    private int ReadDimension()
    {
        int begin = _pos;
        long value = 0;
        while (_pos < text.Length && char.IsAsciiDigit(text[_pos]))
        {
            value = value * 10 + (text[_pos++] - '0');
            if (value > int.MaxValue) throw Fail($"dimension {text[begin..(_pos)]}... is larger than {int.MaxValue}");
        }
        if (_pos == begin) throw Fail("a shape dimension must be a non-negative integer");
        if (Peek() == 'L') _pos++; // Python 2 long literal, as written by old NumPy
        return (int)value;
    }

    private bool ReadBool()
    {
        if (Match("True")) return true;
        if (Match("False")) return false;
        throw Fail("'fortran_order' must be True or False");
    }

    private string ReadString()
    {
        char quote = Peek();
        if (quote is not ('\'' or '"')) throw Fail("expected a quoted string");
        int end = text.IndexOf(quote, _pos + 1);
        if (end < 0) throw Fail("unterminated string");
        string value = text[(_pos + 1)..end];
        if (value.Contains('\\')) throw Fail("escape sequences in header strings are not supported");
        _pos = end + 1;
        return value;
    }

    private bool Match(string word)
    {
        if (string.CompareOrdinal(text, _pos, word, 0, word.Length) != 0) return false;
        _pos += word.Length;
        return true;
    }

    private char Peek() => _pos < text.Length ? text[_pos] : '\0';

    private void Expect(char c)
    {
        if (Peek() != c) throw Fail($"expected '{c}'");
        _pos++;
    }

    private void SkipSpace()
    {
        while (_pos < text.Length && text[_pos] is ' ' or '\t' or '\n' or '\r') _pos++;
    }

    private NpyFormatException Fail(string why) =>
        new(source, $"malformed .npy header at character {_pos}: {why} (header: {Excerpt()})");

    private string Excerpt() => text.Length <= 120 ? text.TrimEnd() : text[..120] + "...";
}
