using System.Formats.Tar;
using RestoreTools.Engine;
using RestoreTools.Engine.Export;
using RestoreTools.Tests.Unit.Agent;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Engine;

/// <summary>
/// FAT on this host, whose kernel has no vfat: the engine reads the volume itself (FileSystems/Fat) and
/// serves it read-only through FUSE (Mounting/FatFuseMount). Images are made by mkfs.vfat and filled by
/// mtools' mcopy, never mounted on the way.
/// </summary>
public sealed class FatFuseTests : IDisposable
{
    private readonly TestImages _images = new();
    private readonly TestEngine _t = new();

    public void Dispose() { _t.Dispose(); _images.Dispose(); }

    private static string Sha256(Stream s) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(s));

    /// <summary>A FAT image of the given kind filled from a tree with mcopy -s -m (modification times kept).</summary>
    private string Fat(int fatBits, int sizeMiB, string tree)
    {
        string img = Path.Combine(_images.Dir, $"fat{fatBits}-{Guid.NewGuid():N}.img");
        Shell.Run($"truncate -s {sizeMiB}M '{img}' && mkfs.vfat -F {fatBits} -n RTFAT{fatBits} '{img}' >/dev/null");
        // UTF-8 names in, and local time = UTC, as the reader reads FAT's local times.
        Shell.Run($"cd '{tree}' && export LC_ALL=C.UTF-8 TZ=UTC MTOOLS_SKIP_CHECK=1 && mcopy -s -m -i '{img}' * ::/");
        return img;
    }

    private string SourceTree()
    {
        string tree = _images.Tree("src",
            ("hello.txt", "hello fat\n"),
            ("Ünïcödé 日本.txt", "unicode\n"),   // no emoji: mcopy keeps only the low 16 bits of a character past U+FFFF
            ("A rather long file name, longer than eight dot three.text", "long\n"),
            ("nested/a/b/deep.txt", "deep\n"),
            ("empty.txt", ""));
        var big = new byte[5 * 1024 * 1024 + 77];
        new Random(11).NextBytes(big);
        File.WriteAllBytes(Path.Combine(tree, "big.bin"), big);
        Directory.CreateDirectory(Path.Combine(tree, "wide"));
        for (int i = 0; i < 600; i++) File.WriteAllText(Path.Combine(tree, "wide", $"file-{i:D5}.txt"), $"wide {i}\n");
        File.SetLastWriteTimeUtc(Path.Combine(tree, "hello.txt"), new DateTime(2019, 6, 7, 8, 9, 10, DateTimeKind.Utc));
        return tree;
    }

    private string ReadText(string path) => ReadText(_t.Engine, path);

    private static string ReadText(RestoreEngine engine, string path)
    {
        using var reader = new StreamReader(engine.OpenRead(path));
        return reader.ReadToEnd();
    }

    [Theory]
    [InlineData(12, 8)]
    [InlineData(16, 32)]
    [InlineData(32, 64)]
    public void EveryFileReadsByteExactWithoutAKernelDriver(int fatBits, int sizeMiB)
    {
        string tree = SourceTree();
        if (fatBits == 12) Directory.Delete(Path.Combine(tree, "wide"), recursive: true);   // FAT12: a small volume, its root folder only
        string img = Fat(fatBits, sizeMiB, tree);
        string before = Shell.Sha256(img);
        _t.Engine.AttachImage(img, "fat");
        Assert.Equal("vfat", _t.Engine.GetBucket("/fat/raw").FileSystem);
        var bucket = _t.Engine.Mount("/fat/raw");
        Assert.Contains(File.ReadLines("/proc/self/mountinfo"), l => l.Contains($" {bucket.MountPoint} ") && l.Contains(" - fuseblk.restoretools-fat "));

        var files = Directory.EnumerateFiles(tree, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(tree, f)).ToList();
        foreach (var rel in files)
        {
            using var source = File.OpenRead(Path.Combine(tree, rel));
            using var restored = _t.Engine.OpenRead("/fat/raw/" + rel);
            Assert.Equal(Sha256(source), Sha256(restored));
        }
        Assert.Equal(
            Directory.EnumerateFileSystemEntries(tree).Select(Path.GetFileName).Order(StringComparer.Ordinal),
            _t.Engine.List("/fat/raw").Select(i => i.Name).Order(StringComparer.Ordinal));
        var hello = _t.Engine.GetItem("/fat/raw/hello.txt");
        Assert.Equal(10, hello.Size);
        Assert.Equal(new DateTimeOffset(2019, 6, 7, 8, 9, 10, TimeSpan.Zero), hello.LastWriteTime);

        // A tar of the whole volume holds every file with its bytes.
        using (var tar = new MemoryStream())
        {
            _t.Engine.Export("/fat/raw", tar, new ExportOptions(ExportFormat.Tar));
            tar.Position = 0;
            var names = new HashSet<string>(StringComparer.Ordinal);
            using var reader = new TarReader(tar);
            while (reader.GetNextEntry() is { } e) if (e.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile) names.Add(e.Name);
            foreach (var rel in files) Assert.Contains(names, n => n.EndsWith("/" + rel, StringComparison.Ordinal) || n == rel);
        }

        _t.Engine.Unmount("/fat/raw");
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), l => l.Contains($" {bucket.MountPoint} "));
        Assert.Equal(before, Shell.Sha256(img));
    }

    /// <summary>A folder whose cluster chain loops fails alone, with a clear error; the rest of the volume reads.</summary>
    [Fact]
    public void ACorruptFolderFailsAloneAndTheImageIsUntouched()
    {
        string tree = _images.Tree("c", ("ok.txt", "fine\n"), ("bad/inner.txt", "never\n"));
        string img = Fat(32, 64, tree);
        // Point the FAT entry of bad/'s first cluster at itself: a chain that never ends.
        uint cluster = uint.Parse(Shell.Run($"python3 - '{img}' <<'PY'\n" + """
import struct, sys
d = open(sys.argv[1], 'rb').read()
bps, spc, rsv, nfats = struct.unpack_from('<HBHB', d, 11)
fatsz = struct.unpack_from('<I', d, 36)[0]
root = struct.unpack_from('<I', d, 44)[0]
data = (rsv + nfats * fatsz) * bps
def off(c): return data + (c - 2) * spc * bps
for i in range(0, spc * bps, 32):
    e = d[off(root) + i: off(root) + i + 32]
    if e[0:11] == b'BAD        ':
        print((struct.unpack_from('<H', e, 20)[0] << 16) | struct.unpack_from('<H', e, 26)[0])
PY
""").Trim());
        Shell.Run($"python3 -c \"import struct,sys; f=open('{img}','r+b'); d=f.read(64); bps,spc,rsv=struct.unpack_from('<HBH',d,11); [ (f.seek(rsv*bps + k*struct.unpack_from('<I',d,36)[0]*bps + {cluster}*4), f.write(struct.pack('<I',{cluster}))) for k in range(d[16]) ]\"");
        string before = Shell.Sha256(img);
        _t.Engine.AttachImage(img, "cfat");
        Assert.Equal("fine\n", ReadText("/cfat/raw/ok.txt"));
        var ex = Assert.ThrowsAny<Exception>(() => _t.Engine.List("/cfat/raw/bad").ToList());
        Assert.True(ex is RestoreException or IOException, ex.ToString());
        // The caller sees EIO; the engine's warnings say why.
        lock (_t.Warnings) Assert.Contains(_t.Warnings, w => w.StartsWith("'/cfat/raw': FAT folder /bad: ", StringComparison.Ordinal) && w.Contains("loop"));
        Assert.Equal("fine\n", ReadText("/cfat/raw/ok.txt"));
        _t.Engine.Unmount("/cfat/raw");
        Assert.Equal(before, Shell.Sha256(img));
    }

    /// <summary>
    /// The FUSE server lives in the engine's process: killed, it leaves a mount whose server is gone
    /// ("transport endpoint is not connected"); the next engine on the same state unmounts it.
    /// </summary>
    [Fact]
    public void AKilledAgentsFatMountIsCleanedByTheNextOne()
    {
        string img = Fat(32, 64, _images.Tree("k", ("hello.txt", "hello fat\n")));
        using var first = AgentProcess.Start(aot: false, token: true, "--image", "f=" + img);
        string mountPoint;
        using (var client = first.Client())
        {
            mountPoint = client.Mount("/f/raw").MountPoint!;
            Assert.Equal("hello fat\n", File.ReadAllText(Path.Combine(mountPoint, "hello.txt")));
        }
        first.Process.Kill();
        Assert.True(first.WaitForExit(TimeSpan.FromSeconds(10)));
        Assert.Contains(File.ReadLines("/proc/self/mountinfo"), l => l.Contains($" {mountPoint} "));

        using var second = AgentProcess.Start(aot: false, token: true, "--state-dir", first.StateDir);
        for (int i = 0; i < 50 && File.ReadLines("/proc/self/mountinfo").Any(l => l.Contains($" {mountPoint} ")); i++) Thread.Sleep(100);
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), l => l.Contains(first.StateDir + "/mnt/", StringComparison.Ordinal));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(first.StateDir, "mnt")));
    }

    [Fact]
    public void DisposingTheEngineUnmounts()
    {
        string img = Fat(16, 32, _images.Tree("d", ("a.txt", "a\n")));
        var t = new TestEngine();
        string mountPoint;
        try
        {
            t.Engine.AttachImage(img, "d");
            mountPoint = t.Engine.Mount("/d/raw").MountPoint!;
            Assert.Equal("a\n", ReadText(t.Engine, "/d/raw/a.txt"));
        }
        finally { t.Engine.Dispose(); }
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), l => l.Contains($" {mountPoint} "));
        t.Dispose();
    }
}
