using System.Text;
using RestoreTools.Engine.FileSystems.Fat;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.FileSystems.Fat;

/// <summary>
/// Long-name rules on crafted changes to real entries, as Linux vfat applies them: a long name counts only
/// when its slots are complete, in order, and carry the short name's checksum; otherwise the 8.3 name shows.
/// </summary>
public sealed class FatNameTests
{
    private const string LongName = "abcdefghijklmnop.txt";      // two LFN slots before ABCDEF~1.TXT

    private static FatTestImage Sample()
    {
        var img = new FatTestImage(16, 512, 32);
        img.SourceFile(LongName, 7);
        img.SourceFile("OTHER.TXT", 11);
        img.SourceFile("UPPER.TXT", 13);
        img.CopyAllIn();
        return img;
    }

    private static Dictionary<string, FatEntry> Root(FatTestImage img)
    {
        var v = img.Open();
        return v.ReadDirectory(v.Root).ToDictionary(e => e.Name, StringComparer.Ordinal);
    }

    [Fact]
    public void TheLongNameOfCompleteSlots()
    {
        using var img = Sample();
        long shortEntry = img.ShortEntry("ABCDEF~1TXT");
        Assert.Equal(0x01, img.ImageBytes(shortEntry - 32, 1)[0]);
        Assert.Equal(0x42, img.ImageBytes(shortEntry - 64, 1)[0]);
        Assert.Equal(new[] { "OTHER.TXT", "UPPER.TXT", LongName }, Root(img).Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("checksum of the first slot", -32, 13, 0x00)]
    [InlineData("checksum of the last slot", -64, 13, 0x00)]
    [InlineData("last slot without its 0x40 mark", -64, 0, 0x02)]
    [InlineData("first slot numbered 2", -32, 0, 0x02)]
    [InlineData("first slot deleted", -32, 0, 0xE5)]
    [InlineData("last slot deleted", -64, 0, 0xE5)]
    [InlineData("a slot count past 20", -64, 0, 0x55)]
    [InlineData("the short name changed", 0, 7, (byte)'X')]
    public void ABrokenLongNameLeavesTheShortName(string what, int slotOffset, int field, byte value)
    {
        using var img = Sample();
        long shortEntry = img.ShortEntry("ABCDEF~1TXT");
        if (field == 13) value = (byte)(img.ImageBytes(shortEntry + slotOffset + 13, 1)[0] + 1);
        img.Patch(shortEntry + slotOffset + field, [value]);
        string expected = slotOffset == 0 ? "ABCDEF~X.TXT" : "ABCDEF~1.TXT";
        var names = Root(img).Keys.Order(StringComparer.Ordinal).ToArray();
        Assert.True(names.SequenceEqual(new[] { expected, "OTHER.TXT", "UPPER.TXT" }), $"{what}: {string.Join(", ", names)}");
    }

    [Fact]
    public void SlotsInSwappedOrderLeaveTheShortName()
    {
        using var img = Sample();
        long shortEntry = img.ShortEntry("ABCDEF~1TXT");
        byte[] last = img.ImageBytes(shortEntry - 64, 32), first = img.ImageBytes(shortEntry - 32, 32);
        img.Patch(shortEntry - 64, first);
        img.Patch(shortEntry - 32, last);
        Assert.Contains("ABCDEF~1.TXT", Root(img).Keys);
    }

    [Theory]
    [InlineData("/", "a slash")]
    [InlineData("\0", "a NUL first: an empty name")]
    public void LongNamesNoPathCanHoldAreSkipped(string firstChar, string what)
    {
        using var img = Sample();
        long shortEntry = img.ShortEntry("ABCDEF~1TXT");
        img.Patch(shortEntry - 32 + 1, Encoding.Unicode.GetBytes(firstChar));
        var names = Root(img).Keys.Order(StringComparer.Ordinal).ToArray();
        Assert.True(names.SequenceEqual(new[] { "OTHER.TXT", "UPPER.TXT" }), $"{what}: {string.Join(", ", names)}");
    }

    [Fact]
    public void DotNamesAreSkipped()
    {
        using var img = Sample();
        long shortEntry = img.ShortEntry("ABCDEF~1TXT");
        // The first slot as ".." then NUL: the name is ".." whatever the second slot holds after the NUL.
        img.Patch(shortEntry - 32 + 1, Encoding.Unicode.GetBytes("..\0"));
        Assert.DoesNotContain("..", Root(img).Keys);
        Assert.Equal(2, Root(img).Count);
    }

    [Fact]
    public void ADuplicateNameKeepsTheFirstEntry()
    {
        using var img = Sample();
        // mcopy wrote OTHER.TXT first (the shell's sorted glob); named UPPER too, it hides the real UPPER.TXT.
        Assert.True(img.ShortEntry("OTHER   TXT") < img.ShortEntry("UPPER   TXT"));
        img.Patch(img.ShortEntry("OTHER   TXT"), Encoding.ASCII.GetBytes("UPPER   TXT"));
        var root = Root(img);
        Assert.Equal(2, root.Count);
        Assert.Equal(11, root["UPPER.TXT"].Size);
    }

    [Fact]
    public void ShortNameBytesAndCaseFlags()
    {
        using var img = Sample();
        long other = img.ShortEntry("OTHER   TXT"), upper = img.ShortEntry("UPPER   TXT");
        img.Patch(other, [0x05]);                                 // 0x05 stands for a leading 0xE5: σ in codepage 437
        img.Patch(upper + 12, [0x10]);                           // lower-case extension only
        var root = Root(img);
        Assert.Contains("\u03C3THER.TXT", root.Keys);
        Assert.Contains("UPPER.txt", root.Keys);
        img.Patch(upper + 12, [0x08]);
        img.Patch(upper + 1, [0x8E]);                            // Ä, lowered through codepage 437 as Linux does
        Assert.Contains("u\u00e4per.TXT", Root(img).Keys);
    }

    [Fact]
    public void TheLabel()
    {
        using var img = Sample();
        Assert.Equal("RTFAT", img.Open().Label);
        img.Mtools($"mlabel -i '{img.Image}' ::NEWLABEL");
        Assert.Equal("NEWLABEL", img.Open().Label);

        // The root folder's entry wins over the boot sector's copy, which stays when the entry is gone.
        long entry = img.ShortEntry("NEWLABEL   ");
        img.Patch(entry, Encoding.ASCII.GetBytes("ROOTONLY"));
        Assert.Equal("ROOTONLY", img.Open().Label);
        img.Patch(entry, [0xE5]);
        Assert.Equal("NEWLABEL", img.Open().Label);
        Assert.DoesNotContain(img.Open() is var v ? v.ReadDirectory(v.Root) : [], e => e.Name.Contains("LABEL") || e.Name.Contains("ROOTONLY"));

        using var unlabeled = new FatTestImage(32, 512, 64, label: "NO NAME");
        Assert.Null(unlabeled.Open().Label);
    }
}
