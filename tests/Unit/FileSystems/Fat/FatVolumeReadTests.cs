using System.Text;
using RestoreTools.Engine.FileSystems.Fat;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.FileSystems.Fat;

/// <summary>Real mkfs.vfat images filled by mtools read back by FatVolume: names, bytes, sizes, times.</summary>
public sealed class FatVolumeReadTests
{
    public static TheoryData<int, int, int> Layouts => new()
    {
        { 12, 512, 4 }, { 16, 512, 32 }, { 32, 512, 64 },
        { 12, 4096, 8 }, { 16, 4096, 64 }, { 32, 4096, 300 },   // mtools wants 65525+ clusters for FAT32
        { 12, 2048, 8 }, { 16, 1024, 32 }, { 32, 2048, 200 },
    };

    private static readonly DateTime SourceTime = new(2011, 3, 4, 5, 6, 9, DateTimeKind.Utc);

    [Theory]
    [MemberData(nameof(Layouts))]
    public void EveryFileReadsBackByteForByteWithItsName(int bits, int sectorSize, int sizeMiB)
    {
        using var img = new FatTestImage(bits, sectorSize, sizeMiB);
        int cs = img.ClusterSize;
        img.SourceFile("Sub/Deeper/hello.txt", 100);
        img.SourceFile("Folder With A Long Name/inner folder/x.bin", 3 * cs + 17);
        img.SourceFile("café é.txt", 10);
        img.SourceFile("日本語のファイル名.txt", 20);
        img.SourceFile("XXsmile.txt", 30);                    // gets an emoji below: mtools drops non-BMP characters
        img.SourceFile("UPPER.TXT", 40);
        img.SourceFile("lower.txt", 50);
        img.SourceFile("Mixed.Txt", 60);
        img.SourceFile("Ä.TXT", 61);
        img.SourceFile("empty", 0);
        img.SourceFile("one-cluster.bin", cs);
        img.SourceFile("one-cluster-plus-one.bin", cs + 1);
        img.SourceFile("A long file name with spaces, commas and more than thirty characters.data", 200_000);
        foreach (var f in Directory.EnumerateFiles(img.Source, "*", SearchOption.AllDirectories))
            File.SetLastWriteTimeUtc(f, SourceTime);
        img.CopyAllIn();
        PutEmojiInLongName(img, "XXsmile.txt", "\U0001F642");

        var volume = img.Open();
        Assert.Equal($"FAT{bits}", volume.Kind);
        Assert.Equal("RTFAT", volume.Label);
        Assert.Equal(cs, volume.ClusterSize);

        var entries = FatTestImage.Walk(volume);
        var expected = Directory.EnumerateFileSystemEntries(img.Source, "*", SearchOption.AllDirectories)
            .ToDictionary(p => Path.GetRelativePath(img.Source, p).Replace("XXsmile", "\U0001F642smile"), p => p, StringComparer.Ordinal);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), entries.Keys.Order(StringComparer.Ordinal));

        Assert.Equal(entries.Count, entries.Values.Select(e => e.EntryOffset).Distinct().Count());
        foreach (var (rel, source) in expected)
        {
            var e = entries[rel];
            // EntryOffset is where the entry's own 32 bytes lie: its cluster and size are there.
            byte[] raw = img.ImageBytes(e.EntryOffset, 32);
            Assert.Equal((ushort)e.FirstCluster, BitConverter.ToUInt16(raw, 26));
            Assert.Equal(e.IsDirectory ? 0 : e.Size, BitConverter.ToUInt32(raw, 28));
            Assert.Equal(Directory.Exists(source), e.IsDirectory);
            if (e.IsDirectory) { Assert.Equal(0, e.Size); continue; }
            Assert.Equal(new FileInfo(source).Length, e.Size);
            Assert.Equal(Shell.Sha256(source), FatTestImage.Sha256(volume, e));
            // FAT keeps even seconds: 05:06:09 is stored as 05:06:08.
            Assert.Equal(SourceTime.AddSeconds(-1), e.Modified);
            Assert.Equal(DateTimeKind.Utc, e.Modified.Kind);
            Assert.Equal(SourceTime.Date, e.Accessed);
            Assert.Equal(SourceTime.AddSeconds(-1), e.Created);             // mcopy -m writes the creation time as the modification time
            Assert.Equal(0x20, e.Attributes & 0x30);
        }
        Assert.True(volume.FreeClusters > 0 && volume.FreeClusters < volume.TotalClusters);
    }

    [Theory]
    [InlineData(12, 512, 4)]
    [InlineData(16, 4096, 64)]
    [InlineData(32, 512, 64)]
    public void NamesAreThoseMdirLists(int bits, int sectorSize, int sizeMiB)
    {
        using var img = new FatTestImage(bits, sectorSize, sizeMiB);
        // Not "café.txt": mtools keeps it as the 8.3 name CAFÉ.TXT with the lower-case flags and lowers only
        // ASCII when listing ("cafÉ.txt"); Linux lowers through codepage 437 ("café.txt"), as we do.
        foreach (string name in new[] { "UPPER.TXT", "lower.txt", "Mixed.Txt", "MiXeD", "lowerdir/x", "Café.txt", "日本.txt", "a b c d e f g h.txt", "NOEXT" })
            img.SourceFile(name, 5);
        img.CopyAllIn();

        // mdir -b lists "::/path" per entry, folders with a trailing slash.
        var mdir = img.Mtools($"mdir -b -/ -i '{img.Image}' ::/").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.TrimEnd('/')[3..]).Order(StringComparer.Ordinal);
        var ours = FatTestImage.Walk(img.Open()).Keys.Order(StringComparer.Ordinal);
        Assert.Equal(mdir, ours);
    }

    [Theory]
    [InlineData(12, 512, 4)]
    [InlineData(16, 512, 32)]
    [InlineData(32, 4096, 300)]
    public void AFragmentedBigFileReadsBackWithFewRuns(int bits, int sectorSize, int sizeMiB)
    {
        using var img = new FatTestImage(bits, sectorSize, sizeMiB);
        int cs = img.ClusterSize;
        const int smallFiles = Fragmented.SmallFiles;
        string big = Fragmented.Make(img);
        long bigSize = new FileInfo(big).Length;

        var volume = img.Open();
        var entries = FatTestImage.Walk(volume);
        var e = entries["big.bin"];
        Assert.Equal(bigSize, e.Size);
        Assert.Equal(Shell.Sha256(big), FatTestImage.Sha256(volume, e));
        // Reads of odd sizes at odd offsets cross run boundaries the same way.
        Assert.Equal(Shell.Sha256(big), FatTestImage.Sha256(volume, e, chunk: cs / 2 + 7));
        Assert.NotNull(e.Runs);
        Assert.InRange(e.Runs!.Count, smallFiles / 2, smallFiles / 2 + 2);   // one run per hole, then the rest in one
        for (int i = 1; i < smallFiles; i += 2)
            Assert.Equal(Shell.Sha256(Path.Combine(img.Source, $"frag/s{i:D3}.bin")), FatTestImage.Sha256(volume, entries[$"frag/s{i:D3}.bin"]));
        Assert.DoesNotContain("frag/s000.bin", entries.Keys);
    }

    /// <summary>Small files of one cluster, every other one deleted, then a big file filling the holes.</summary>
    private static class Fragmented
    {
        public const int SmallFiles = 200;

        public static string Make(FatTestImage img)
        {
            int cs = img.ClusterSize;
            for (int i = 0; i < SmallFiles; i++) img.SourceFile($"frag/s{i:D3}.bin", cs, i);
            img.Mtools($"mmd -i '{img.Image}' ::/frag && mcopy -i '{img.Image}' frag/* ::/frag/");
            img.Mtools($"mdel -i '{img.Image}' " + string.Join(' ', Enumerable.Range(0, SmallFiles).Where(i => i % 2 == 0).Select(i => $"::/frag/s{i:D3}.bin")));
            if (img.Bits == 32) ForgetNextFreeHint(img);
            string big = img.SourceFile("big.bin", Math.Min(3L << 20, (long)cs * 1500) + 123);
            img.Mtools($"mcopy -i '{img.Image}' big.bin ::/");
            return big;
        }
    }

    [Theory]
    [InlineData(12, 512, 4)]
    [InlineData(16, 512, 32)]
    [InlineData(32, 4096, 300)]
    public async Task ATinyFatCacheAndTwoThreadsAtOnceReadTheSameBytes(int bits, int sectorSize, int sizeMiB)
    {
        using var img = new FatTestImage(bits, sectorSize, sizeMiB);
        Fragmented.Make(img);
        img.SourceFile("sub/x.bin", 5 * img.ClusterSize + 3);
        img.Mtools($"mcopy -s -i '{img.Image}' sub ::/");
        var expected = Directory.EnumerateFiles(img.Source, "*", SearchOption.AllDirectories)
            .Where(p => !Path.GetFileName(p).StartsWith('s') || int.Parse(Path.GetFileName(p)[1..4]) % 2 == 1)
            .ToDictionary(p => Path.GetRelativePath(img.Source, p), Shell.Sha256);

        // 4-byte pages, two of them: FAT12 entries straddle pages and every walk evicts.
        var reader = new RestoreTools.Engine.Disks.FileBlockReader(img.Image);
        try
        {
            // Run lists of more than one run are not kept either (no budget): fragmented files walk on every read.
            var volume = FatVolume.Open(reader, new FatCacheLimits(FatPageSize: 4, FatMaxPages: 2, SmallRuns: 1, BigRunsBytes: 0));
            var threads = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
            {
                var entries = FatTestImage.Walk(volume);
                return entries.Where(kv => !kv.Value.IsDirectory).ToDictionary(kv => kv.Key, kv => FatTestImage.Sha256(volume, kv.Value, chunk: 10_000));
            })).ToArray();
            var results = await Task.WhenAll(threads).WaitAsync(TimeSpan.FromSeconds(120));
            foreach (var r in results) Assert.Equal(expected.OrderBy(kv => kv.Key), r.OrderBy(kv => kv.Key));
            var walked = FatTestImage.Walk(volume);
            Assert.Equal(expected["big.bin"], FatTestImage.Sha256(volume, walked["big.bin"]));
            Assert.Null(walked["big.bin"].Runs);                               // read, but its ~100 runs not kept
            Assert.Equal(expected["sub/x.bin"], FatTestImage.Sha256(volume, walked["sub/x.bin"]));
            Assert.Equal(1, walked["sub/x.bin"].Runs!.Count);                // one run: kept
            Assert.Equal(FatVolume.Open(reader).FreeClusters, volume.FreeClusters);
        }
        finally { reader.Dispose(); }
    }

    [Theory]
    [InlineData(16, 512, 64)]
    [InlineData(32, 512, 64)]
    public void AFolderOfTenThousandFiles(int bits, int sectorSize, int sizeMiB)
    {
        using var img = new FatTestImage(bits, sectorSize, sizeMiB);
        const int n = 10_000;
        // Distinct 6-character prefixes: mtools tries ~1..~n per clashing prefix, which is cubic.
        Shell.Run($"mkdir -p '{img.Source}/many' && cd '{img.Source}/many' && for i in $(seq -w 1 {n}); do echo $i > \"n$i with a long name.txt\"; done");
        img.Mtools($"mcopy -s -i '{img.Image}' many ::/");

        var volume = img.Open();
        var many = volume.ReadDirectory(volume.ReadDirectory(volume.Root).Single(e => e.Name == "many"));
        Assert.Equal(n, many.Count);
        Assert.Equal(n, many.Select(e => e.Name).Distinct().Count());
        foreach (int i in new[] { 1, 2, 5000, 9999, 10000 })
        {
            var e = many.Single(x => x.Name == $"n{i:D5} with a long name.txt");
            byte[] buf = new byte[16];
            int got = volume.Read(e, 0, buf);
            Assert.Equal($"{i:D5}\n", Encoding.ASCII.GetString(buf, 0, got));
        }
    }

    [Fact]
    public void SurrogatePairsAndLoneSurrogatesInLongNames()
    {
        using var img = new FatTestImage(16, 512, 32);
        img.SourceFile("XXpair.txt", 3);
        img.SourceFile("XXlone.txt", 4);
        img.CopyAllIn();
        PutEmojiInLongName(img, "XXpair.txt", "\U0001F600");
        PutEmojiInLongName(img, "XXlone.txt", "\uD83DZ");        // a high surrogate without its low half
        var names = img.Open() is var v ? v.ReadDirectory(v.Root).Select(e => e.Name).ToHashSet() : null;
        Assert.Contains("\U0001F600pair.txt", names!);
        Assert.Contains("\uFFFDZlone.txt", names!);
    }

    /// <summary>FAT32 allocators start at FSInfo's next-free hint, past the holes: set it to "unknown" (0xFFFFFFFF).</summary>
    private static void ForgetNextFreeHint(FatTestImage img)
    {
        byte[] bs = img.ImageBytes(0, 512);
        int sectorSize = bs[11] | bs[12] << 8;
        int fsInfo = bs[48] | bs[49] << 8;
        img.Patch((long)fsInfo * sectorSize + 492, [0xFF, 0xFF, 0xFF, 0xFF]);
    }

    /// <summary>Replaces the first two UTF-16 units of a long name ("XX...") in place: mtools cannot write non-BMP names.</summary>
    internal static void PutEmojiInLongName(FatTestImage img, string name, string twoUnits)
    {
        byte[] needle = Encoding.Unicode.GetBytes(name[..5]);      // the first LFN slot's first field holds 5 units
        byte[] all = File.ReadAllBytes(img.Image);
        int at = all.AsSpan().IndexOf(needle);
        Assert.True(at > 0, $"no LFN slot for {name}");
        Assert.Equal(0x0F, all[at - 1 + 11]);
        img.Patch(at, Encoding.Unicode.GetBytes(twoUnits));
    }
}
