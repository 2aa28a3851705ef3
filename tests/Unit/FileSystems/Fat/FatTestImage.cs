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

    public FatTestImage(int fatBits, int sectorSize, int sizeMiB, string label = "RTFAT")
    {
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

    public void Dispose()
    {
        foreach (var r in _readers) r.Dispose();
        try { Shell.Run($"rm -rf '{Dir}'"); } catch (InvalidOperationException) { }
    }
}
