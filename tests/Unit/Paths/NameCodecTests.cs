using RestoreTools.Engine.Paths;

namespace RestoreTools.Tests.Unit.Paths;

public sealed class NameCodecTests
{
    [Theory]
    [InlineData(new byte[] { 0x61, 0xFF, 0x62 }, "a\\xFFb")]
    [InlineData(new byte[] { 0xC3, 0x28 }, "\\xC3(")]
    [InlineData(new byte[] { 0xE2, 0x82 }, "\\xE2\\x82")]                 // a 3-byte sequence cut short
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, "\\xED\\xA0\\x80")]     // an encoded surrogate is not UTF-8
    [InlineData(new byte[] { 0x5C, 0xE9 }, "\\\\\\xE9")]                 // a backslash beside a raw byte is doubled
    [InlineData(new byte[] { 0xC3, 0xA9, 0x5C }, "é\\")]                  // valid UTF-8 shows as it is
    public void BytesRoundTripThroughTheEngineStringAndTheReadableForm(byte[] bytes, string display)
    {
        string s = NameCodec.Decode(bytes);
        Assert.Equal(bytes, NameCodec.Encode(s));
        Assert.Equal(display, NameCodec.Display(s));
        if (NameCodec.HasRawBytes(s)) Assert.Equal(s, NameCodec.Parse(display));
        else Assert.Null(NameCodec.RawBytesOrNull(s));
    }

    [Fact]
    public void EveryByteValueRoundTrips()
    {
        for (int b = 1; b < 256; b++)
        {
            byte[] bytes = [(byte)'x', (byte)b, (byte)'y'];
            Assert.Equal(bytes, NameCodec.Encode(NameCodec.Decode(bytes)));
        }
    }

    [Fact]
    public void TextWithoutEscapesIsNotParsed()
    {
        Assert.Null(NameCodec.Parse("plain.txt"));
        Assert.Null(NameCodec.Parse("a\\x41b"));   // only bytes 0x80-0xFF are ever escaped
    }
}
