using System.Text;
using Microsoft.Win32.SafeHandles;
using RestoreTools.Engine.Mounting;
using RestoreTools.Engine.Mounting.Fuse;
using RestoreTools.Engine.Native;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Mounting;

/// <summary>
/// The engine's FUSE server against the real kernel: a tree held in memory, mounted read-only as
/// fuseblk over a real read-only loop device, read back through ordinary system calls (the FAT
/// reader that serves real volumes through it is tested in FatFuseMountTests).
/// </summary>
public sealed class FuseServerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rt-fuse-").FullName;
    private readonly LoopDevice _loop;
    private readonly SafeFileHandle _backing;

    public FuseServerTests()
    {
        string image = Path.Combine(_dir, "dev.img");
        File.WriteAllBytes(image, new byte[1 << 20]);
        _backing = File.OpenHandle(image, FileMode.Open, FileAccess.Read);
        _loop = LoopDevices.Attach(_backing, "rt-fuse-test");
    }

    public void Dispose()
    {
        _loop.Detach();
        _backing.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private sealed class Item(string name, byte[]? data, params Item[] children)
    {
        public string Name = name;
        public byte[]? Data = data;
        public Item[] Children = children;
        public int Lists;
    }

    private sealed class MemoryTree(Item root) : IReadOnlyTree<Item>
    {
        public Item Root => root;
        public IReadOnlyList<Item> List(Item folder)
        {
            Interlocked.Increment(ref folder.Lists);
            if (folder.Name == "broken") throw new InvalidDataException("a corrupt folder");
            return folder.Children;
        }
        public TreeAttributes Attributes(Item node) => new(node.Name, node.Data is null, node.Data?.Length ?? 0,
            node.Name.EndsWith(".ro") ? 0x124u : node.Data is null ? 0x1EDu : 0x1A4u,
            new DateTime(2021, 3, 4, 5, 6, 8, DateTimeKind.Utc), new DateTime(2021, 3, 4, 0, 0, 0, DateTimeKind.Utc),
            new DateTime(2020, 1, 2, 3, 4, 5, 670, DateTimeKind.Utc));
        public int Read(Item file, long offset, Span<byte> buffer)
        {
            if (file.Name == "unreadable") throw new InvalidDataException("chain leaves the volume");
            int n = (int)Math.Max(0, Math.Min(buffer.Length, file.Data!.Length - offset));
            file.Data.AsSpan((int)offset, n).CopyTo(buffer);
            return n;
        }
        public (int BlockSize, long Blocks, long Free) Space => (4096, 1000, 250);
    }

    [Fact]
    public void ServesNamesBytesAttributesAndRefusesWrites()
    {
        var big = new byte[3 * 1024 * 1024 + 123];
        new Random(7).NextBytes(big);
        var wide = Enumerable.Range(0, 3000).Select(i => new Item($"f{i:D5}.txt", Encoding.UTF8.GetBytes($"file {i}\n"))).ToArray();
        var root = new Item("", null,
            new Item("hello.txt", "hello\n"u8.ToArray()),
            new Item("Ünïcödé 日本 🎉.txt", "u"u8.ToArray()),
            new Item("big.bin", big),
            new Item("empty", []),
            new Item("only.ro", "r"u8.ToArray()),
            new Item("unreadable", new byte[10]),
            new Item("broken", null),
            new Item("wide", null, wide),
            new Item("a", null, new Item("b", null, new Item("deep.txt", "deep"u8.ToArray()))));
        string mnt = Path.Combine(_dir, "mnt");
        Directory.CreateDirectory(mnt);
        var mount = FuseMount.Start(new MemoryTree(root), _loop.Path, mnt, "rt-test", owned: null);
        try
        {
            Assert.Contains(File.ReadLines("/proc/self/mountinfo"), l => l.Contains($" {mnt} ") && l.Contains(" - fuseblk.rt-test ") && l.Contains(" ro,"));
            Assert.Equal(["a", "big.bin", "broken", "empty", "hello.txt", "only.ro", "unreadable", "wide", "Ünïcödé 日本 🎉.txt"],
                Directory.EnumerateFileSystemEntries(mnt).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            Assert.Equal("hello\n", File.ReadAllText(Path.Combine(mnt, "hello.txt")));
            Assert.Equal("u", File.ReadAllText(Path.Combine(mnt, "Ünïcödé 日本 🎉.txt")));
            Assert.Equal(big, File.ReadAllBytes(Path.Combine(mnt, "big.bin")));
            Assert.Empty(File.ReadAllBytes(Path.Combine(mnt, "empty")));
            Assert.Equal("deep", File.ReadAllText(Path.Combine(mnt, "a/b/deep.txt")));

            // 3000 names in one folder, each opened by name: the folder is listed once.
            Assert.Equal(3000, Directory.EnumerateFiles(Path.Combine(mnt, "wide")).Count());
            for (int i = 0; i < 3000; i += 7) Assert.Equal($"file {i}\n", File.ReadAllText(Path.Combine(mnt, $"wide/f{i:D5}.txt")));
            Assert.Equal(1, root.Children.Single(c => c.Name == "wide").Lists);

            var st = Stat.LstatInfo(Path.Combine(mnt, "hello.txt"));
            Assert.Equal(6, st.Size);
            Assert.Equal(0x1A4, st.Mode & 0xfff);
            Assert.Equal(new DateTimeOffset(2021, 3, 4, 5, 6, 8, TimeSpan.Zero).ToUnixTimeSeconds(), st.MtimeSeconds);
            Assert.Equal(0x124, Stat.LstatInfo(Path.Combine(mnt, "only.ro")).Mode & 0xfff);
            Assert.Equal(Stat.Kind.Directory, Stat.Lstat(Path.Combine(mnt, "a")));

            // A corrupt folder or file fails alone, with EIO; the rest still reads.
            Assert.Equal(Sys.EIO, Assert.ThrowsAny<IOException>(() => Directory.EnumerateFileSystemEntries(Path.Combine(mnt, "broken")).ToList()).HResult & 0xffff);
            Assert.ThrowsAny<IOException>(() => File.ReadAllBytes(Path.Combine(mnt, "unreadable")));
            Assert.Equal("hello\n", File.ReadAllText(Path.Combine(mnt, "hello.txt")));
            Assert.False(File.Exists(Path.Combine(mnt, "missing")));

            // Read-only: nothing can be made, changed or removed.
            Assert.ThrowsAny<IOException>(() => File.WriteAllText(Path.Combine(mnt, "new.txt"), "x"));
            Assert.ThrowsAny<IOException>(() => File.AppendAllText(Path.Combine(mnt, "hello.txt"), "x"));
            Assert.ThrowsAny<IOException>(() => File.Delete(Path.Combine(mnt, "hello.txt")));
            Assert.Equal("hello\n", File.ReadAllText(Path.Combine(mnt, "hello.txt")));
            Assert.Empty(Shell.Run($"getfattr -d -m - '{Path.Combine(mnt, "hello.txt")}' 2>&1 || true").Trim());
            Assert.Contains("4096 1000 250", Shell.Run($"stat -f -c '%S %b %f' '{mnt}'"));
        }
        finally
        {
            MountCalls.Unmount(mnt);
            mount.Stop();
        }
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), l => l.Contains($" {mnt} "));
    }
}
