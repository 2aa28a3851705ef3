using RestoreTools.Engine.Disks;
using RestoreTools.Engine.FileSystems.Fat;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.FileSystems.Fat;

/// <summary>
/// A FAT image made by mkfs.vfat and filled by mtools (this host's kernel has no vfat to mount), with the
/// source tree it was filled from, to compare what FatVolume reads against.
/// </summary>
internal sealed class FatTestImage : IDisposable
{
    private readonly List<FileBlockReader> _readers = [];

    public string Dir { get; } = Directory.CreateTempSubdirectory("rt-fat-").FullName;
    public string Image => Path.Combine(Dir, "fat.img");
    public string Source => Path.Combine(Dir, "src");
    public int ClusterSize { get; }

    public int Bits { get; }

    public FatTestImage(int fatBits, int sectorSize, int sizeMiB, string label = "RTFAT")
    {
        Bits = fatBits;
        Directory.CreateDirectory(Source);
        Shell.Run($"truncate -s {sizeMiB}M '{Image}' && mkfs.vfat -F {fatBits} -S {sectorSize} -n '{label}' '{Image}' >/dev/null 2>&1");
        byte[] bs = new byte[512];
        using (var f = File.OpenRead(Image)) f.ReadExactly(bs);
        ClusterSize = (bs[11] | bs[12] << 8) * bs[13];
    }

    /// <summary>Runs mtools with UTF-8 names and UTC times (FAT stores local time; we read it as UTC).</summary>
    public string Mtools(string command) =>
        Shell.Run($"cd '{Source}' && export LC_ALL=C.UTF-8 TZ=UTC MTOOLS_SKIP_CHECK=1 && {command}");

    /// <summary>Writes a source file of deterministic pseudo-random bytes and returns its path.</summary>
    public string SourceFile(string relative, long size, int seed = 1)
    {
        string full = Path.Combine(Source, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        byte[] data = new byte[size];
        new Random(seed ^ relative.GetHashCode(StringComparison.Ordinal)).NextBytes(data);
        File.WriteAllBytes(full, data);
        return full;
    }

    /// <summary>Copies every top-level source entry into the image's root, keeping modification times.</summary>
    public void CopyAllIn() => Mtools($"for f in *; do mcopy -s -m -i '{Image}' \"$f\" ::/; done");

    public FatVolume Open()
    {
        var reader = new FileBlockReader(Image);
        _readers.Add(reader);
        return FatVolume.Open(reader);
    }

    /// <summary>Every entry of the volume by its path relative to the root ("a/b.txt").</summary>
    public static Dictionary<string, FatEntry> Walk(FatVolume volume)
    {
        var all = new Dictionary<string, FatEntry>(StringComparer.Ordinal);
        void Visit(FatEntry dir, string prefix)
        {
            foreach (var e in volume.ReadDirectory(dir))
            {
                string rel = prefix + e.Name;
                all.Add(rel, e);
                if (e.IsDirectory) Visit(e, rel + "/");
            }
        }
        Visit(volume.Root, "");
        return all;
    }

    public static string Sha256(FatVolume volume, FatEntry file, int chunk = 1 << 20)
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        byte[] buf = new byte[chunk];
        long offset = 0;
        while (true)
        {
            int n = volume.Read(file, offset, buf);
            if (n == 0) break;
            sha.AppendData(buf, 0, n);
            offset += n;
        }
        Assert.Equal(file.Size, offset);
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    /// <summary>Patches bytes of the image file in place (for crafted corruptions).</summary>
    public void Patch(long offset, ReadOnlySpan<byte> bytes)
    {
        using var f = new FileStream(Image, FileMode.Open, FileAccess.Write);
        f.Position = offset;
        f.Write(bytes);
    }

    public byte[] ImageBytes(long offset, int count)
    {
        using var f = File.OpenRead(Image);
        f.Position = offset;
        byte[] b = new byte[count];
        f.ReadExactly(b);
        return b;
    }

    // The layout from the boot sector, read here on its own so the tests do not lean on the code under test.
    private int Le16(byte[] b, int o) => b[o] | b[o + 1] << 8;
    private byte[] Boot => ImageBytes(0, 512);
    public int SectorSize => Le16(Boot, 11);
    public int Fats => Boot[16];
    public long FatBytes => (Le16(Boot, 22) != 0 ? Le16(Boot, 22) : BitConverter.ToUInt32(Boot, 36)) * (long)SectorSize;
    public long FatOffset => (long)Le16(Boot, 14) * SectorSize;
    public long RootOffset => FatOffset + Fats * FatBytes;
    public long DataOffset => RootOffset + Le16(Boot, 17) * 32L;
    public uint RootCluster => Bits == 32 ? BitConverter.ToUInt32(Boot, 44) : 0;
    public long ClusterOffset(uint c) => DataOffset + (long)(c - 2) * ClusterSize;

    /// <summary>Sets cluster c's FAT entry in every FAT copy.</summary>
    public void SetFat(uint c, uint value)
    {
        for (int k = 0; k < Fats; k++)
        {
            long fat = FatOffset + k * FatBytes;
            switch (Bits)
            {
                case 12:
                {
                    long off = fat + c + c / 2;
                    byte[] two = ImageBytes(off, 2);
                    int v = two[0] | two[1] << 8;
                    v = (c & 1) != 0 ? (v & 0x000F) | (int)((value & 0xFFF) << 4) : (v & 0xF000) | (int)(value & 0xFFF);
                    Patch(off, [(byte)v, (byte)(v >> 8)]);
                    break;
                }
                case 16: Patch(fat + c * 2L, BitConverter.GetBytes((ushort)value)); break;
                default: Patch(fat + c * 4L, BitConverter.GetBytes(value)); break;
            }
        }
    }

    public uint GetFat(uint c) => Bits switch
    {
        12 => (uint)((Le16(ImageBytes(FatOffset + c + c / 2, 2), 0) >> ((c & 1) != 0 ? 4 : 0)) & 0xFFF),
        16 => (uint)Le16(ImageBytes(FatOffset + c * 2L, 2), 0),
        _ => BitConverter.ToUInt32(ImageBytes(FatOffset + c * 4L, 4)) & 0x0FFFFFFF,
    };

    /// <summary>Byte offset of the live short entry with this 11-byte name ("LOOP    BIN").</summary>
    public long ShortEntry(string name11)
    {
        byte[] all = File.ReadAllBytes(Image);
        byte[] needle = System.Text.Encoding.ASCII.GetBytes(name11);
        for (int from = 0; ;)
        {
            int at = all.AsSpan(from).IndexOf(needle);
            Assert.True(at >= 0, $"no entry {name11}");
            long off = from + at;
            if (off % 32 == 0 && off >= RootOffset) return off;
            from = (int)off + 1;
        }
    }

    public uint EntryCluster(long entry)
    {
        byte[] e = ImageBytes(entry, 32);
        return (uint)(Le16(e, 26) | (Bits == 32 ? Le16(e, 20) << 16 : 0));
    }

    public void SetEntryCluster(long entry, uint cluster)
    {
        Patch(entry + 26, BitConverter.GetBytes((ushort)cluster));
        if (Bits == 32) Patch(entry + 20, BitConverter.GetBytes((ushort)(cluster >> 16)));
    }

    /// <summary>The clusters of a chain, read from FAT 0 (at most limit).</summary>
    public List<uint> Chain(uint first, int limit = 100_000)
    {
        uint eoc = Bits switch { 12 => 0xFF8u, 16 => 0xFFF8u, _ => 0x0FFFFFF8u };
        var chain = new List<uint>();
        for (uint c = first; c >= 2 && c < eoc && chain.Count < limit; c = GetFat(c)) chain.Add(c);
        return chain;
    }

    public void Dispose()
    {
        foreach (var r in _readers) r.Dispose();
        try { Shell.Run($"rm -rf '{Dir}'"); } catch (InvalidOperationException) { }
    }
}
