using System.Text;
using RestoreTools.Engine.Paths;

namespace RestoreTools.Engine.Export;

/// <summary>
/// Entry names for zip as their bytes. ZipArchive sets an entry's UTF-8 flag when its name
/// encoding's code page is UTF-8, and asks just before it encodes the name: so the writer says,
/// before each entry, what kind of name comes, and names that are not UTF-8 go out as their own
/// bytes without the flag (as Info-ZIP writes such names), while UTF-8 names keep it.
/// </summary>
internal sealed class ZipNameEncoding : Encoding
{
    private const int Utf8 = 65001, Ascii = 20127, Iso8859 = 28591;
    private int _codePage = Utf8;

    /// <summary>Sets what the next entry's name is, before ZipArchive.CreateEntry.</summary>
    public void Next(string name) =>
        _codePage = NameCodec.HasRawBytes(name) ? Iso8859 : name.All(c => c < 0x80) ? Ascii : Utf8;

    public override int CodePage => _codePage;

    public override byte[] GetBytes(string s) => NameCodec.Encode(s);
    public override int GetByteCount(string s) => NameCodec.Encode(s).Length;
    public override int GetByteCount(char[] chars, int index, int count) => GetByteCount(new string(chars, index, count));

    public override int GetBytes(char[] chars, int charIndex, int charCount, byte[] bytes, int byteIndex)
    {
        var encoded = NameCodec.Encode(new string(chars, charIndex, charCount));
        encoded.CopyTo(bytes, byteIndex);
        return encoded.Length;
    }

    public override int GetCharCount(byte[] bytes, int index, int count) => NameCodec.Decode(bytes.AsSpan(index, count)).Length;

    public override int GetChars(byte[] bytes, int byteIndex, int byteCount, char[] chars, int charIndex)
    {
        var s = NameCodec.Decode(bytes.AsSpan(byteIndex, byteCount));
        s.CopyTo(0, chars, charIndex, s.Length);
        return s.Length;
    }

    public override int GetMaxByteCount(int charCount) => charCount * 3 + 3;
    public override int GetMaxCharCount(int byteCount) => byteCount;
}
