using RestoreTools.Engine.Disks;
using RestoreTools.Engine.FileSystems.Fat;

namespace RestoreTools.Tests.Unit.FileSystems.Fat;

/// <summary>
/// Real images with crafted corruptions: every one must end in an InvalidDataException that names the file,
/// never a hang (each case runs under a timeout), an endless tree or a wrong read.
/// </summary>
public sealed class FatVolumeHostileTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    public static TheoryData<int, int, int> Layouts => new() { { 12, 512, 4 }, { 16, 4096, 64 }, { 32, 512, 64 } };

    /// <summary>Runs body on another thread and fails when it has not finished within the guard.</summary>
    private static void Guarded(Action body)
    {
        var task = Task.Run(body);
        Assert.True(task.Wait(Guard), "timed out: a hang on hostile input");
    }

    private static InvalidDataException Throws(Action body, string mustName)
    {
        InvalidDataException? ex = null;
        Guarded(() => ex = Assert.Throws<InvalidDataException>(body));
        Assert.Contains(mustName, ex!.Message);
        return ex;
    }

    /// <summary>An image with /loop.bin (5 clusters), /sub/inner/deep.txt and a folder /many spanning several clusters.</summary>
    private static FatTestImage Sample(int bits, int sectorSize, int sizeMiB)
    {
        var img = new FatTestImage(bits, sectorSize, sizeMiB);
        img.SourceFile("loop.bin", 5L * img.ClusterSize);
        img.SourceFile("sub/inner/deep.txt", 10);
        int perCluster = img.ClusterSize / 32;
        for (int i = 0; i < 3 * perCluster; i++) img.SourceFile($"many/F{i:D4}.TXT", 1);
        img.CopyAllIn();
        return img;
    }

    private static FatEntry Find(FatVolume v, string path)
    {
        var e = v.Root;
        foreach (string part in path.Split('/')) e = v.ReadDirectory(e).Single(x => x.Name == part);
        return e;
    }

    private static void ReadAll(FatVolume v, FatEntry f)
    {
        byte[] buf = new byte[64 * 1024];
        for (long off = 0; ;)
        {
            int n = v.Read(f, off, buf);
            if (n == 0) return;
            off += n;
        }
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void AFileChainLoopingBack(int bits, int sectorSize, int sizeMiB)
    {
        using var img = Sample(bits, sectorSize, sizeMiB);
        var chain = img.Chain(img.EntryCluster(img.ShortEntry("LOOP    BIN")));
        Assert.Equal(5, chain.Count);
        img.SetFat(chain[2], chain[0]);
        var v = img.Open();
        var f = Find(v, "loop.bin");
        Throws(() => ReadAll(v, f), "/loop.bin");
        Throws(() => v.Read(f, 0, new byte[1]), "loops");                    // every read, the first bytes too
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void AFolderChainLoopingBackOrOnItself(int bits, int sectorSize, int sizeMiB)
    {
        using var img = Sample(bits, sectorSize, sizeMiB);
        var chain = img.Chain(img.EntryCluster(img.ShortEntry("MANY       ")));
        Assert.True(chain.Count >= 3);
        img.SetFat(chain[^1], chain[0]);
        var v = img.Open();
        Throws(() => v.ReadDirectory(Find(v, "many")), "/many");

        img.SetFat(chain[^1], chain[^1]);
        v = img.Open();
        Throws(() => v.ReadDirectory(Find(v, "many")), "/many");
    }

    [Fact]
    public void AFolderPastTheSpecsLimitOf65536Entries()
    {
        using var img = Sample(16, 512, 64);
        var chain = img.Chain(img.EntryCluster(img.ShortEntry("MANY       ")));
        // Extend /many's chain, without a loop, through free clusters to past 2 MiB.
        long needed = 2 * 1024 * 1024 / img.ClusterSize + 2;
        uint from = (uint)(img.Chain(img.EntryCluster(img.ShortEntry("LOOP    BIN"))).Max() + 100);
        byte[] fat = new byte[needed * 2];
        for (int i = 0; i < needed; i++) BitConverter.TryWriteBytes(fat.AsSpan(i * 2), (ushort)(i + 1 < needed ? from + i + 1 : 0xFFFF));
        for (int k = 0; k < img.Fats; k++) img.Patch(img.FatOffset + k * img.FatBytes + from * 2L, fat);
        img.SetFat(chain[^1], from);
        var v = img.Open();
        Throws(() => v.ReadDirectory(Find(v, "many")), "65536");
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void ChainsLeavingTheDataArea(int bits, int sectorSize, int sizeMiB)
    {
        using var img = Sample(bits, sectorSize, sizeMiB);
        long entry = img.ShortEntry("LOOP    BIN");
        var chain = img.Chain(img.EntryCluster(entry));
        uint beyond = (uint)((new FileInfo(img.Image).Length - img.DataOffset) / img.ClusterSize + 2);
        img.SetFat(chain[1], beyond + 1);
        var v = img.Open();
        Throws(() => ReadAll(v, Find(v, "loop.bin")), "/loop.bin");

        img.SetFat(chain[1], chain[2]);                          // repaired; now the first cluster is off the end
        img.SetEntryCluster(entry, beyond + 7);
        v = img.Open();
        Throws(() => ReadAll(v, Find(v, "loop.bin")), "/loop.bin");

        img.SetEntryCluster(entry, 1);
        v = img.Open();
        Throws(() => ReadAll(v, Find(v, "loop.bin")), "/loop.bin");
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void ChainsRunningIntoFreeOrBadClusters(int bits, int sectorSize, int sizeMiB)
    {
        using var img = Sample(bits, sectorSize, sizeMiB);
        var chain = img.Chain(img.EntryCluster(img.ShortEntry("LOOP    BIN")));
        img.SetFat(chain[1], 0);
        var v = img.Open();
        var f = Find(v, "loop.bin");
        Throws(() => ReadAll(v, f), "free cluster");
        Throws(() => v.Read(f, 2L * img.ClusterSize, new byte[1]), "free cluster");
        Assert.Equal(2 * img.ClusterSize, v.Read(f, 0, new byte[2 * img.ClusterSize]));   // the two clusters before the break

        img.SetFat(chain[1], bits switch { 12 => 0xFF7u, 16 => 0xFFF7u, _ => 0x0FFFFFF7u });
        v = img.Open();
        Throws(() => ReadAll(v, Find(v, "loop.bin")), "bad cluster");

        img.SetFat(chain[1], bits switch { 12 => 0xFFFu, 16 => 0xFFFFu, _ => 0x0FFFFFFFu });   // ends after 2 of 5
        v = img.Open();
        var ex = Throws(() => ReadAll(v, Find(v, "loop.bin")), "/loop.bin");
        Assert.Contains("short of", ex.Message);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void ASizeLargerThanTheChain(int bits, int sectorSize, int sizeMiB)
    {
        using var img = Sample(bits, sectorSize, sizeMiB);
        long entry = img.ShortEntry("LOOP    BIN");
        img.Patch(entry + 28, BitConverter.GetBytes(5u * (uint)img.ClusterSize + 1));
        var v = img.Open();
        var f = Find(v, "loop.bin");
        // Bytes the chain covers still read, as in Linux; a read reaching past them fails whole, never short.
        byte[] buf = new byte[5 * img.ClusterSize];
        Assert.Equal(buf.Length, v.Read(f, 0, buf));
        Assert.Equal(File.ReadAllBytes(Path.Combine(img.Source, "loop.bin")), buf);
        Throws(() => v.Read(f, buf.Length - 1, new byte[2]), "short of the 6 its size needs");
        Throws(() => v.Read(f, buf.Length, new byte[1]), "/loop.bin");

        img.Patch(entry + 28, BitConverter.GetBytes(uint.MaxValue));
        v = img.Open();
        Throws(() => ReadAll(v, Find(v, "loop.bin")), "/loop.bin");
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void FolderCycles(int bits, int sectorSize, int sizeMiB)
    {
        using var img = Sample(bits, sectorSize, sizeMiB);
        long sub = img.ShortEntry("SUB        "), inner = img.ShortEntry("INNER      ");
        uint subCluster = img.EntryCluster(sub), innerCluster = img.EntryCluster(inner);

        img.SetEntryCluster(inner, subCluster);                  // /sub/inner is /sub
        var v = img.Open();
        Throws(() => v.ReadDirectory(Find(v, "sub/inner")), "/sub/inner");

        img.SetEntryCluster(inner, img.RootCluster);             // /sub/inner is the root
        v = img.Open();
        Throws(() => v.ReadDirectory(Find(v, "sub/inner")), "/sub/inner");

        img.SetEntryCluster(inner, innerCluster);
        img.SetEntryCluster(sub, img.RootCluster);               // /sub is the root
        v = img.Open();
        Throws(() => v.ReadDirectory(Find(v, "sub")), "/sub");

        // A cycle two levels down, through the inner folder's own entry for "deep.txt" made a folder at /sub.
        img.SetEntryCluster(sub, subCluster);
        long deep = img.ShortEntry("DEEP    TXT");
        img.Patch(deep + 11, [0x10]);
        img.SetEntryCluster(deep, subCluster);
        v = img.Open();
        Throws(() => v.ReadDirectory(Find(v, "sub/inner/deep.txt")), "/sub/inner/deep.txt");
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void CrossLinkedFolders(int bits, int sectorSize, int sizeMiB)
    {
        using var img = Sample(bits, sectorSize, sizeMiB);
        uint many = img.EntryCluster(img.ShortEntry("MANY       "));
        img.SetEntryCluster(img.ShortEntry("INNER      "), many);      // /sub/inner is /many
        var v = img.Open();
        Assert.Equal(3 * img.ClusterSize / 32, v.ReadDirectory(Find(v, "many")).Count);
        Throws(() => v.ReadDirectory(Find(v, "sub/inner")), "/many");
        // Read again as the same folder (a fresh entry from a fresh listing), it still reads.
        Assert.Equal(3 * img.ClusterSize / 32, v.ReadDirectory(Find(v, "many")).Count);

        // Two entries of one folder for the same subfolder: the first one read owns it.
        long loop = img.ShortEntry("LOOP    BIN");
        img.Patch(loop + 11, [0x10]);
        img.SetEntryCluster(loop, img.EntryCluster(img.ShortEntry("SUB        ")));
        v = img.Open();
        Assert.Single(v.ReadDirectory(Find(v, "sub")));
        Throws(() => v.ReadDirectory(Find(v, "loop.bin")), "/sub");
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void AWalkOfACorruptedTreeEndsWhateverTheCorruption(int bits, int sectorSize, int sizeMiB)
    {
        using var img = Sample(bits, sectorSize, sizeMiB);
        long sub = img.ShortEntry("SUB        ");
        img.SetEntryCluster(img.ShortEntry("INNER      "), img.EntryCluster(sub));
        var v = img.Open();
        // The walk of a tree lists /sub/inner, and fails on reading it: it never goes round for ever.
        Guarded(() =>
        {
            var seen = 0;
            void Visit(FatEntry d)
            {
                IReadOnlyList<FatEntry> list;
                try { list = v.ReadDirectory(d); }
                catch (InvalidDataException) { return; }
                foreach (var e in list) { seen++; if (e.IsDirectory) Visit(e); }
            }
            Visit(v.Root);
            Assert.InRange(seen, 1, 10_000);
        });
    }

    [Fact]
    public void GarbageAndInconsistentBootSectors()
    {
        using var img = new FatTestImage(16, 512, 32);
        byte[] good = img.ImageBytes(0, 512);

        void Expect(Action<byte[]> spoil, string why)
        {
            byte[] bs = (byte[])good.Clone();
            spoil(bs);
            img.Patch(0, bs);
            var ex = Throws(() => img.Open(), "Not a usable FAT volume");
            Assert.Contains(why, ex.Message);
        }

        Expect(bs => new Random(7).NextBytes(bs), "");
        Expect(bs => Array.Clear(bs), "");
        Expect(bs => bs[11] = 3, "sector size");                              // 0x0203
        Expect(bs => bs[13] = 3, "sectors per cluster");
        Expect(bs => bs[16] = 0, "no FAT copies");
        Expect(bs => { bs[14] = 0; bs[15] = 0; }, "no reserved sectors");
        Expect(bs => bs[21] = 0x12, "media");
        Expect(bs => { bs[17] = 0; bs[18] = 0; }, "no root folder entries");
        Expect(bs => { bs[17] = 3; bs[18] = 0; }, "whole sectors");
        Expect(bs => { bs[19] = 10; bs[20] = 0; }, "past the volume");
        Expect(bs => { bs[22] = 0; bs[23] = 0; Array.Clear(bs, 36, 4); }, "no FAT size");
        Expect(bs => { bs[22] = 0; bs[23] = 0; }, "past the volume");         // a FAT32 BPB: bytes 36-39 as FAT size

        // A FAT too small for the data area: as Linux, the clusters it has no entries for do not exist.
        byte[] small = (byte[])good.Clone();
        small[22] = 1; small[23] = 0;
        img.Patch(0, small);
        Assert.Equal(512 * 8 / 16 - 2, img.Open().TotalClusters);
        img.Patch(0, good);
        Assert.Equal("FAT16", img.Open().Kind);

        Throws(() => FatVolume.Open(new FileBlockReader("/dev/null")), "shorter than a boot sector");
    }

    [Fact]
    public void Fat32BootSectorFields()
    {
        using var img = new FatTestImage(32, 512, 64);
        byte[] good = img.ImageBytes(0, 512);
        img.Patch(44, BitConverter.GetBytes(0x0FFFFFF0u));
        Throws(() => img.Open(), "root folder cluster");
        img.Patch(44, BitConverter.GetBytes(1u));
        Throws(() => img.Open(), "root folder cluster");
        img.Patch(0, good);
        img.Patch(40, [0x85, 0x00]);                              // mirroring off, active FAT 5 of 2
        Throws(() => img.Open(), "active FAT");

        // Mirroring off with FAT 1 active: FAT 0 may hold anything.
        img.Patch(0, good);
        img.SourceFile("a.txt", 3000);
        img.CopyAllIn();
        img.Patch(40, [0x81, 0x00]);
        img.Patch(img.FatOffset, new byte[4096]);
        var v = img.Open();
        Assert.Equal(new FileInfo(Path.Combine(img.Source, "a.txt")).Length, Find(v, "a.txt").Size);
        Assert.Equal(RestoreTools.Tests.Unit.Support.Shell.Sha256(Path.Combine(img.Source, "a.txt")), FatTestImage.Sha256(v, Find(v, "a.txt")));
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void ATruncatedImage(int bits, int sectorSize, int sizeMiB)
    {
        using var img = Sample(bits, sectorSize, sizeMiB);
        long loopData = img.ClusterOffset(img.EntryCluster(img.ShortEntry("LOOP    BIN")));
        using (var f = new FileStream(img.Image, FileMode.Open)) f.SetLength(loopData + 10);
        var v = img.Open();
        Throws(() => ReadAll(v, Find(v, "loop.bin")), "/loop.bin");
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void RandomDamageToFatAndFoldersNeverHangs(int bits, int sectorSize, int sizeMiB)
    {
        using var img = Sample(bits, sectorSize, sizeMiB);
        byte[] pristine = File.ReadAllBytes(img.Image);
        var rng = new Random(bits * 31 + sectorSize);
        long fatEnd = img.FatOffset + Math.Min(img.FatBytes, 64 * 1024);
        long dirEnd = img.DataOffset + 64L * img.ClusterSize;
        for (int round = 0; round < 60; round++)
        {
            byte[] damaged = (byte[])pristine.Clone();
            for (int k = 0; k < 30; k++)
            {
                long at = rng.Next(2) == 0 ? rng.NextInt64(img.FatOffset, fatEnd) : rng.NextInt64(img.RootOffset, dirEnd);
                damaged[at] = (byte)rng.Next(256);
            }
            File.WriteAllBytes(img.Image, damaged);
            var v = img.Open();
            Guarded(() =>
            {
                int listed = 0;
                // No depth limit: cycles and cross-linked folders must end the walk by themselves.
                void Visit(FatEntry d)
                {
                    IReadOnlyList<FatEntry> list;
                    try { list = v.ReadDirectory(d); }
                    catch (InvalidDataException) { return; }
                    foreach (var e in list)
                    {
                        listed++;
                        if (e.IsDirectory) Visit(e);
                        else try { ReadAll(v, e); } catch (InvalidDataException) { }
                    }
                }
                Visit(v.Root);
                _ = v.FreeClusters;
                Assert.True(listed < 1_000_000);
            });
        }
    }
}
