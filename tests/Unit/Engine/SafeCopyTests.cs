using System.Formats.Tar;
using RestoreTools.Engine;
using RestoreTools.Engine.Export;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Engine;

/// <summary>An ext4 image holding what a careless copy gets wrong: setuid files, a 1 TB sparse file, a tree past PATH_MAX, a FIFO, a device node.</summary>
public sealed class HostileSample : IDisposable
{
    public TestImages Images { get; } = new();
    public string Image { get; }
    public string ImageSha { get; }
    /// <summary>Folder names of the deep tree: 240 levels of 20 bytes, 5,040 bytes in all, past PATH_MAX (4096).</summary>
    public const string Level = "deep-level-012345678";
    public const int Depth = 240;

    public HostileSample()
    {
        string tree = Images.Tree("tree",
            ("etc/hostname", "hostile-host\n"),
            ("etc/shadow", "root:*:1::::::\n"),
            ("bin/suid-alice", "#!/bin/sh\n"),
            ("bin/sgid-alice", "#!/bin/sh\n"),
            ("bin/suid-root", "#!/bin/sh\n"),
            ("tmpdir/.keep", ""));
        Shell.Run($"cd '{tree}' && chown 1000:1000 bin/suid-alice bin/sgid-alice && chmod 4755 bin/suid-alice && chmod 6755 bin/sgid-alice "
            + "&& chmod 4755 bin/suid-root && chmod 1777 tmpdir "
            + "&& truncate -s 1T sparse-1t.img && printf 'middle' | dd of=sparse-1t.img bs=1 seek=$((1<<30)) conv=notrunc status=none "
            + "&& truncate -s 10M holes.bin && printf 'start' | dd of=holes.bin conv=notrunc status=none && printf 'mid' | dd of=holes.bin bs=1 seek=5000000 conv=notrunc status=none "
            + "&& mkfifo special-fifo && mknod special-null c 1 3 "
            + "&& mkdir links && echo shared > links/hard-a && ln links/hard-a links/hard-b && ln -s hard-a links/sym "
            + "&& touch -h -d '2021-03-04 05:06:07' links/sym");
        // Made with relative steps (python's chdir): the deepest absolute path is longer than the kernel takes.
        Shell.Run($"cd '{tree}' && python3 -c 'import os\nfor i in range({Depth}): os.mkdir(\"{Level}\"); os.chdir(\"{Level}\")\nopen(\"leaf.txt\", \"w\").write(\"bottom\\n\")'");
        Image = Images.FileSystem("ext4", 64, "hostile", tree);
        ImageSha = Shell.Sha256(Image);
    }

    public void Dispose() => Images.Dispose();
}

public sealed class SafeCopyTests(HostileSample sample) : IDisposable, IClassFixture<HostileSample>
{
    private readonly TestImages _work = new();
    private readonly TestEngine _t = NewEngine(sample);

    private static TestEngine NewEngine(HostileSample sample)
    {
        var t = new TestEngine();
        t.Engine.AttachImage(sample.Image, "h");
        return t;
    }

    public void Dispose()
    {
        _t.Dispose();
        Assert.Equal(sample.ImageSha, Shell.Sha256(sample.Image));
        _work.Dispose();
    }

    private static long AllocatedBytes(string path) => long.Parse(Shell.Run($"echo $(( $(stat -c '%b*%B' '{path}') ))").Trim());

    [Fact]
    public void ACopyNeverWritesThroughASymlinkAlreadyWhereItsFolderGoes()
    {
        string outside = Directory.CreateDirectory(Path.Combine(_work.Dir, "outside")).FullName;
        string dest = Directory.CreateDirectory(Path.Combine(_work.Dir, "D")).FullName;
        File.CreateSymbolicLink(Path.Combine(dest, "etc"), outside);

        var result = _t.Engine.Copy("/h/raw/etc", dest, new CopyOptions());

        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.Equal(0, result.Files);
        Assert.Contains(result.Errors, e => e.Contains("is not a folder"));
        Assert.Contains(result.Errors, e => e.Contains("2 entries below it were not written"));
    }

    [Fact]
    public void SetuidBitsStayOnlyWithTheirOriginalOwner()
    {
        string dest = Path.Combine(_work.Dir, "bin");
        var result = _t.Engine.Copy("/h/raw/bin", dest, new CopyOptions());
        Assert.Empty(result.Errors);

        // As root the owner is restored, so the bits are the image's (as tar -p and cp -a do).
        Assert.Equal("1000:1000 4755", Shell.Run($"stat -c '%u:%g %a' '{dest}/suid-alice'").Trim());
        Assert.Equal("1000:1000 6755", Shell.Run($"stat -c '%u:%g %a' '{dest}/sgid-alice'").Trim());
        Assert.Equal("0:0 4755", Shell.Run($"stat -c '%u:%g %a' '{dest}/suid-root'").Trim());
        // Never root-owned with a bit that was another user's.
        Assert.Empty(Shell.Run($"find '{dest}' -user 0 -perm /6000 ! -name suid-root").Trim());
    }

    [Fact]
    public void ACopyLeavesHolesAsHoles()
    {
        string dest = Path.Combine(_work.Dir, "sparse");
        var result = _t.Engine.Copy("/h/raw/sparse-1t.img", dest, new CopyOptions());
        Assert.Empty(result.Errors);
        Assert.Equal(1L << 40, new FileInfo(dest).Length);
        Assert.True(AllocatedBytes(dest) < 1 << 20, $"a 1 TB sparse file took {AllocatedBytes(dest)} bytes");
        Assert.Equal("middle", Shell.Run($"dd if='{dest}' bs=1 skip=$((1<<30)) count=6 status=none"));

        string holes = Path.Combine(_work.Dir, "holes.bin");
        _t.Engine.Copy("/h/raw/holes.bin", holes, new CopyOptions());
        string mnt = _t.Engine.Mount("/h/raw").MountPoint!;
        Assert.Equal(Shell.Sha256(Path.Combine(mnt, "holes.bin")), Shell.Sha256(holes));
        Assert.Equal(10L << 20, new FileInfo(holes).Length);
    }

    [Fact]
    public void TarExportWritesHolesInGnuSparseFormat()
    {
        string tar = Path.Combine(_work.Dir, "sparse.tar");
        using (var output = File.Create(tar))
        {
            var result = _t.Engine.Export("/h/raw/sparse-1t.img", output, new ExportOptions(ExportFormat.Tar));
            Assert.Empty(result.Errors);
        }
        Assert.True(new FileInfo(tar).Length < 1 << 20, $"the tar of a sparse file is {new FileInfo(tar).Length} bytes");
        Assert.Contains("1099511627776", Shell.Run($"tar -tvf '{tar}'"));
        string x = Directory.CreateDirectory(Path.Combine(_work.Dir, "x")).FullName;
        Shell.Run($"tar -xf '{tar}' -C '{x}'");
        string restored = Path.Combine(x, "sparse-1t.img");
        Assert.Equal(1L << 40, new FileInfo(restored).Length);
        Assert.True(AllocatedBytes(restored) < 1 << 20);
        Assert.Equal("middle", Shell.Run($"dd if='{restored}' bs=1 skip=$((1<<30)) count=6 status=none"));

        // The same archive read back by the remote copy's reader keeps the holes too.
        string copy = Path.Combine(_work.Dir, "copied");
        Directory.CreateDirectory(copy);
        using (var input = File.OpenRead(tar))
            Assert.Empty(TreeCopy.FromTar(input, "sparse-1t.img", copy, new CopyOptions()).Errors);
        Assert.True(AllocatedBytes(Path.Combine(copy, "sparse-1t.img")) < 1 << 20);

        string holesTar = Path.Combine(_work.Dir, "holes.tar");
        using (var output = File.Create(holesTar))
            _t.Engine.Export("/h/raw/holes.bin", output, new ExportOptions(ExportFormat.Tar));
        string y = Directory.CreateDirectory(Path.Combine(_work.Dir, "y")).FullName;
        Shell.Run($"tar -xf '{holesTar}' -C '{y}'");
        Assert.Equal(Shell.Sha256(Path.Combine(_t.Engine.Mount("/h/raw").MountPoint!, "holes.bin")), Shell.Sha256(Path.Combine(y, "holes.bin")));
    }

    [Fact]
    public void ZipAndRawRefuseWhatDoesNotFitAndNameTheSizes()
    {
        string zip = Path.Combine(_work.Dir, "sparse.zip");
        using (var output = File.Create(zip))
        {
            var result = _t.Engine.Export("/h/raw", output, new ExportOptions(ExportFormat.Zip) { SpaceAvailable = 1L << 30 });
            Assert.Contains(result.Errors, e => e.StartsWith("sparse-1t.img: needs 1,099,511,627,776 bytes", StringComparison.Ordinal) && e.Contains("zip has no holes"));
        }
        Assert.True(new FileInfo(zip).Length < 32 << 20);
        var ex = Assert.Throws<RestoreException>(() => _t.Engine.Export("/h/raw/sparse-1t.img", Stream.Null, new ExportOptions(ExportFormat.Raw) { SpaceAvailable = 1L << 30 }));
        Assert.Contains("1,099,511,627,776 bytes", ex.Message);
    }

    [Fact]
    public void ACopyNeverMakesDeviceNodesOrFifosAndSaysSo()
    {
        string dest = Path.Combine(_work.Dir, "all");
        var warnings = new List<string>();
        var result = _t.Engine.Copy("/h/raw", dest, new CopyOptions { OnWarning = (p, r) => warnings.Add(p + ": " + r) });
        Assert.False(File.Exists(Path.Combine(dest, "special-fifo")));
        Assert.False(File.Exists(Path.Combine(dest, "special-null")));
        Assert.Contains(warnings, w => w.StartsWith("special-fifo: FIFO not created", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.StartsWith("special-null: character device not created", StringComparison.Ordinal));
        Assert.Empty(Shell.Run($"find '{dest}' -type p -o -type c -o -type b -o -type s").Trim());
        Assert.Equal(result.Warnings!.Count, warnings.Count);
    }

    [Fact]
    public void TreesPastPathMaxAreListedCopiedAndExportedToTheirEnd()
    {
        string deepPath = "/h/raw/" + string.Join('/', Enumerable.Repeat(HostileSample.Level, HostileSample.Depth));
        var leaf = Assert.Single(_t.Engine.List(deepPath));
        Assert.Equal("leaf.txt", leaf.Name);
        using (var reader = new StreamReader(_t.Engine.OpenRead(deepPath + "/leaf.txt")))
            Assert.Equal("bottom\n", reader.ReadToEnd());

        string dest = Path.Combine(_work.Dir, "deep");
        var result = _t.Engine.Copy("/h/raw/" + HostileSample.Level, dest, new CopyOptions());
        Assert.Empty(result.Errors);
        Assert.Equal(1, result.Files);
        Assert.Equal("bottom", Shell.Run($"cd '{dest}' && python3 -c 'import os\nfor i in range({HostileSample.Depth - 1}): os.chdir(\"{HostileSample.Level}\")\nprint(open(\"leaf.txt\").read())'").Trim());

        string tar = Path.Combine(_work.Dir, "deep.tar");
        using (var output = File.Create(tar))
            Assert.Empty(_t.Engine.Export("/h/raw/" + HostileSample.Level, output, new ExportOptions(ExportFormat.Tar)).Errors);
        Assert.Contains("leaf.txt", Shell.Run($"tar -tf '{tar}' | tail -1"));
    }

    [Fact]
    public void AnArchiveThatLinksAndThenWritesThroughItsLinkWritesNothingOutside()
    {
        string outside = Directory.CreateDirectory(Path.Combine(_work.Dir, "host-folder")).FullName;
        string secret = Path.Combine(_work.Dir, "host-secret.txt");
        File.WriteAllText(secret, "host");
        var tar = new MemoryStream();
        using (var w = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            w.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "x/"));
            w.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "x/link") { LinkName = outside });
            w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "x/link/pwned.txt") { DataStream = new MemoryStream("pwned"u8.ToArray()) });
            w.WriteEntry(new PaxTarEntry(TarEntryType.HardLink, "x/hard") { LinkName = secret });
            w.WriteEntry(new PaxTarEntry(TarEntryType.Fifo, "x/fifo"));
            w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "x/ok.txt") { DataStream = new MemoryStream("ok"u8.ToArray()) });
        }
        tar.Position = 0;
        string dest = Directory.CreateDirectory(Path.Combine(_work.Dir, "dest")).FullName;

        var result = TreeCopy.FromTar(tar, "x", dest, new CopyOptions());

        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.Equal("host", File.ReadAllText(secret));
        Assert.Equal("ok", File.ReadAllText(Path.Combine(dest, "x/ok.txt")));
        Assert.Equal(outside, new FileInfo(Path.Combine(dest, "x/link")).LinkTarget);
        Assert.False(File.Exists(Path.Combine(dest, "x/hard")));
        Assert.Contains(result.Errors, e => e.StartsWith("link/pwned.txt", StringComparison.Ordinal) || e.StartsWith("link:", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.Contains("hard link"));
    }

    [Fact]
    public void HardLinksStayHardLinksAndSymlinksKeepTheirTimes()
    {
        string dest = Path.Combine(_work.Dir, "links");
        Assert.Empty(_t.Engine.Copy("/h/raw/links", dest, new CopyOptions()).Errors);
        Assert.Equal(Shell.Run($"stat -c %i '{dest}/hard-a'"), Shell.Run($"stat -c %i '{dest}/hard-b'"));
        Assert.Equal("2", Shell.Run($"stat -c %h '{dest}/hard-a'").Trim());
        Assert.Equal("2021-03-04 05:06:07", Shell.Run($"TZ=UTC0 stat -c %y '{dest}/sym'")[..19]);

        string tar = Path.Combine(_work.Dir, "links.tar");
        using (var output = File.Create(tar))
            Assert.Empty(_t.Engine.Export("/h/raw/links", output, new ExportOptions(ExportFormat.Tar)).Errors);
        // Whichever name the walk met first holds the data; the other links to it.
        Assert.Matches(@"links/hard-(a link to links/hard-b|b link to links/hard-a)", Shell.Run($"tar -tvf '{tar}'"));
        string x = Directory.CreateDirectory(Path.Combine(_work.Dir, "xl")).FullName;
        Shell.Run($"tar -xf '{tar}' -C '{x}'");
        Assert.Equal(Shell.Run($"stat -c %i '{x}/links/hard-a'"), Shell.Run($"stat -c %i '{x}/links/hard-b'"));

        // The same archive through the remote copy's reader: one file, two names.
        string fromTar = Directory.CreateDirectory(Path.Combine(_work.Dir, "fromtar")).FullName;
        using (var input = File.OpenRead(tar))
            Assert.Empty(TreeCopy.FromTar(input, "links", fromTar, new CopyOptions()).Errors);
        Assert.Equal(Shell.Run($"stat -c %i '{fromTar}/links/hard-a'"), Shell.Run($"stat -c %i '{fromTar}/links/hard-b'"));
    }

    [Fact]
    public void WithoutOwnersTheCopiesAreTheCopyingUsersAndLoseTheirSetuidBits()
    {
        string dest = Path.Combine(_work.Dir, "noowner");
        var result = _t.Engine.Copy("/h/raw/bin", dest, new CopyOptions { RestoreOwners = false });
        Assert.Empty(result.Errors);
        Assert.Equal("0:0 755", Shell.Run($"stat -c '%u:%g %a' '{dest}/suid-alice'").Trim());
        Assert.Equal("0:0 755", Shell.Run($"stat -c '%u:%g %a' '{dest}/suid-root'").Trim());
        Assert.Contains(result.Warnings!, w => w.StartsWith("suid-alice: setuid/setgid/sticky bits dropped", StringComparison.Ordinal));
    }
}
