using RestoreTools.Engine;
using RestoreTools.Engine.Browsing;
using RestoreTools.Engine.Export;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Engine;

/// <summary>A tree with files, modes, owners, long names and links on a real ext4 image.</summary>
public sealed class BrowseSample : IDisposable
{
    public TestImages Images { get; } = new();
    public string Image { get; }
    public string Tree { get; }
    public const string LongName = "a-file-name-that-is-much-longer-than-the-one-hundred-characters-that-plain-ustar-headers-can-hold-in-their-name-field.txt";

    public BrowseSample()
    {
        Tree = Images.Tree("tree",
            ("etc/hostname", "browse-host\n"),
            ("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
            ("home/alice/notes.txt", "alice's notes\n"),
            ("home/alice/deep/er/still/" + LongName, "long"),
            ("home/bob/secret.txt", "bob\n"),
            ("links/abs", "->/etc/hostname"),
            ("links/escape", "->../../../../../../root"),
            ("links/rel", "->../etc/passwd"),
            ("empty/.keep", ""));
        var big = new byte[3 * 1024 * 1024 + 17];
        new Random(42).NextBytes(big);
        File.WriteAllBytes(Path.Combine(Tree, "home/alice/big.bin"), big);
        Shell.Run($"cd '{Tree}' && chmod 0600 home/bob/secret.txt && chown 1001:1002 home/bob/secret.txt && chmod 0750 home/alice " +
                  "&& chmod 4755 etc/passwd && touch -h -d '2020-02-03 04:05:06' links/rel home/alice/notes.txt && mkfifo pipe");
        Image = Images.FileSystem("ext4", 48, "browse", Tree);
    }

    public void Dispose() => Images.Dispose();
}

public sealed class BrowseExportTests(BrowseSample sample) : IDisposable, IClassFixture<BrowseSample>
{
    private readonly TestImages _work = new();
    private readonly TestEngine _t = NewEngine(sample);

    private static TestEngine NewEngine(BrowseSample sample)
    {
        var t = new TestEngine();
        t.Engine.AttachImage(sample.Image, "b");
        return t;
    }

    public void Dispose() { _t.Dispose(); _work.Dispose(); }

    private string Mount => _t.Engine.Mount("/b/raw").MountPoint!;

    [Fact]
    public void ListingMatchesStatOnTheMountedFilesystem()
    {
        var items = _t.Engine.List("/b/raw/home/bob").ToList();
        var secret = Assert.Single(items);
        Assert.Equal("secret.txt", secret.Name);
        Assert.Equal("/b/raw/home/bob/secret.txt", secret.Path);
        Assert.Equal(ItemType.File, secret.Type);
        var stat = Shell.Run($"stat -c '%s %a %u %g %Y %A' '{Mount}/home/bob/secret.txt'").Trim().Split(' ');
        Assert.Equal(long.Parse(stat[0]), secret.Size);
        Assert.Equal(stat[1], Convert.ToString(secret.Mode, 8));
        Assert.Equal(long.Parse(stat[2]), secret.Uid);
        Assert.Equal(long.Parse(stat[3]), secret.Gid);
        Assert.Equal(long.Parse(stat[4]), secret.LastWriteTime!.Value.ToUnixTimeSeconds());
        Assert.Equal(stat[5], secret.ModeString);
        Assert.Equal("0600", secret.ModeOctal);

        var passwd = _t.Engine.GetItem("/b/raw/etc/passwd");
        Assert.Equal("-rwsr-xr-x", passwd.ModeString);
        Assert.Equal(Shell.Run($"stat -c '%A' '{Mount}/etc/passwd'").Trim(), passwd.ModeString);
    }

    [Fact]
    public void SymlinksAreListedAsLinksNeverFollowed()
    {
        var links = _t.Engine.List("/b/raw/links").OrderBy(i => i.Name).ToList();
        Assert.Equal(["abs", "escape", "rel"], links.Select(l => l.Name));
        Assert.All(links, l => Assert.Equal(ItemType.Symlink, l.Type));
        Assert.Equal("/etc/hostname", links[0].LinkTarget);
        Assert.Equal("../../../../../../root", links[1].LinkTarget);
        Assert.Equal('l', links[2].ModeString[0]);
        Assert.Equal(long.Parse(Shell.Run($"stat -c %Y '{Mount}/links/rel'")), links[2].LastWriteTime!.Value.ToUnixTimeSeconds());
        // GetItem of a link is the link; reading through it stays inside the image.
        Assert.Equal(ItemType.Symlink, _t.Engine.GetItem("/b/raw/links/abs").Type);
        using var s = new StreamReader(_t.Engine.OpenRead("/b/raw/links/abs"));
        Assert.Equal("browse-host\n", s.ReadToEnd());
    }

    [Fact]
    public void PartialPathsListAsItems()
    {
        Assert.Contains(_t.Engine.List("/"), i => i.Name == "b" && i.Type == ItemType.Disk);
        Assert.Equal(["raw"], _t.Engine.List("/b").Select(i => i.Name));
        Assert.Equal(ItemType.Bucket, _t.Engine.List("/b").Single().Type); // raw: the type is the bucket
        var root = _t.Engine.List("/b/raw").Select(i => i.Name).Order().ToList();
        Assert.Equal(["empty", "etc", "home", "links", "lost+found", "pipe"], root);
        Assert.Equal(ItemType.Fifo, _t.Engine.GetItem("/b/raw/pipe").Type);
    }

    [Fact]
    public void ReadsWithOffsetAndLength()
    {
        var expected = File.ReadAllBytes(Path.Combine(sample.Tree, "home/alice/big.bin"));
        using (var all = _t.Engine.OpenRead("/b/raw/home/alice/big.bin"))
        {
            var ms = new MemoryStream();
            all.CopyTo(ms);
            Assert.Equal(expected, ms.ToArray());
        }
        using var part = _t.Engine.OpenRead("/b/raw/home/alice/big.bin", 1_000_000, 4096);
        var buf = new MemoryStream();
        part.CopyTo(buf);
        Assert.Equal(expected.AsSpan(1_000_000, 4096).ToArray(), buf.ToArray());
        Assert.Equal(RestoreErrorCode.NotAFile, Assert.Throws<RestoreException>(() => _t.Engine.OpenRead("/b/raw/etc")).Code);
        Assert.Equal(RestoreErrorCode.NotAFile, Assert.Throws<RestoreException>(() => _t.Engine.OpenRead("/b/raw/pipe")).Code);
    }

    /// <summary>sha256 of every regular file and the target of every link, relative to a folder.</summary>
    private static string Manifest(string dir) => Shell.Run(
        $"cd '{dir}' && find . \\( -type f -exec sha256sum {{}} + \\) -o \\( -type l -printf '%p -> %l\\n' \\) | sort");

    [Theory]
    [InlineData(ExportFormat.Tar, "tar -xf")]
    [InlineData(ExportFormat.TarGz, "tar -xzf")]
    [InlineData(ExportFormat.TarZst, "tar --zstd -xf")]
    [InlineData(ExportFormat.Zip, "unzip -q")]
    public void ExportedArchivesExtractWithStandardToolsToTheSameBytes(ExportFormat format, string extract)
    {
        string archive = Path.Combine(_work.Dir, "export." + format);
        ExportResult result;
        using (var f = File.Create(archive))
            result = _t.Engine.Export("/b/raw/home", f, new ExportOptions(format));
        Assert.Empty(result.Errors);
        string outDir = Path.Combine(_work.Dir, "x-" + format);
        Directory.CreateDirectory(outDir);
        Shell.Run($"cd '{outDir}' && {extract} '{archive}'");
        Assert.Equal(Manifest(Path.Combine(sample.Tree, "home")), Manifest(Path.Combine(outDir, "home")));
        Assert.Contains(BrowseSample.LongName, Shell.Run($"find '{outDir}'"));
        // Modes survive (the long-name file and the 0600 one).
        Assert.Equal("600", Shell.Run($"stat -c %a '{outDir}/home/bob/secret.txt'").Trim());
        if (format != ExportFormat.Zip)
            Assert.Contains("1001/1002", Shell.Run($"{extract.Replace("-x", "-tv")} '{archive}' | grep secret.txt"));
    }

    [Fact]
    public void TarKeepsEscapingSymlinksAsLinks()
    {
        string archive = Path.Combine(_work.Dir, "links.tar");
        using (var f = File.Create(archive)) _t.Engine.Export("/b/raw/links", f, new ExportOptions(ExportFormat.Tar));
        string listing = Shell.Run($"tar -tvf '{archive}'");
        Assert.Contains("links/escape -> ../../../../../../root", listing);
        Assert.Contains("links/abs -> /etc/hostname", listing);
        Assert.Equal(4, listing.Trim().Split('\n').Length); // the folder and three links: nothing read through them
    }

    [Fact]
    public void RawExportIsTheFileAndRefusesFolders()
    {
        var ms = new MemoryStream();
        _t.Engine.Export("/b/raw/etc/hostname", ms, new ExportOptions(ExportFormat.Raw));
        Assert.Equal("browse-host\n", System.Text.Encoding.UTF8.GetString(ms.ToArray()));
        Assert.Equal(RestoreErrorCode.NotAFile,
            Assert.Throws<RestoreException>(() => _t.Engine.Export("/b/raw/etc", new MemoryStream(), new ExportOptions(ExportFormat.Raw))).Code);
    }

    [Fact]
    public void CopiedTreeIsIdenticalWithLinksModesAndMtimes()
    {
        string dest = Path.Combine(_work.Dir, "restore");
        Directory.CreateDirectory(dest);
        var reports = new List<TransferProgress>();
        var result = _t.Engine.Copy("/b/raw/home", dest, new CopyOptions(), new SyncProgress(reports.Add));
        Assert.Empty(result.Errors);
        Assert.Equal(Manifest(Path.Combine(sample.Tree, "home")), Manifest(Path.Combine(dest, "home")));
        Assert.Equal("750", Shell.Run($"stat -c %a '{dest}/home/alice'").Trim());
        Assert.Equal(Shell.Run($"stat -c %Y '{Mount}/home/alice/notes.txt'"), Shell.Run($"stat -c %Y '{dest}/home/alice/notes.txt'"));
        Assert.Equal(Shell.Run($"stat -c %Y '{Mount}/home/alice'"), Shell.Run($"stat -c %Y '{dest}/home/alice'"));
        Assert.True(result.Bytes >= 3 * 1024 * 1024);
        Assert.NotEmpty(reports);
        Assert.Equal(result.Bytes, reports[^1].BytesDone);

        string links = Path.Combine(_work.Dir, "links");
        Directory.CreateDirectory(links);
        _t.Engine.Copy("/b/raw/links", links, new CopyOptions());
        Assert.Equal("../../../../../../root", new FileInfo(Path.Combine(links, "links/escape")).LinkTarget);
        Assert.Equal("/etc/hostname", new FileInfo(Path.Combine(links, "links/abs")).LinkTarget);
    }

    [Fact]
    public void CopyNeverOverwritesWithoutForce()
    {
        string dest = Path.Combine(_work.Dir, "hostname");
        File.WriteAllText(dest, "mine");
        var result = _t.Engine.Copy("/b/raw/etc/hostname", dest, new CopyOptions());
        Assert.Single(result.Errors);
        Assert.Equal("mine", File.ReadAllText(dest));
        Assert.Equal(RestoreErrorCode.ReadFailed, Assert.Throws<RestoreException>(
            () => _t.Engine.Copy("/b/raw/etc/hostname", dest, new CopyOptions { StopOnError = true })).Code);

        // With Force a file is replaced; a link already there is replaced, not written through.
        string victim = Path.Combine(_work.Dir, "victim");
        File.WriteAllText(victim, "untouched");
        string linkDest = Path.Combine(_work.Dir, "linked");
        File.CreateSymbolicLink(linkDest, victim);
        _t.Engine.Copy("/b/raw/etc/hostname", dest, new CopyOptions { Force = true });
        _t.Engine.Copy("/b/raw/etc/hostname", linkDest, new CopyOptions { Force = true });
        Assert.Equal("browse-host\n", File.ReadAllText(dest));
        Assert.Equal("untouched", File.ReadAllText(victim));
        Assert.Null(new FileInfo(linkDest).LinkTarget);
    }

    private sealed class SyncProgress(Action<TransferProgress> report) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value) => report(value);
    }
}

/// <summary>An image whose folder "bad" has a wiped inode (debugfs clri): reading it fails with EUCLEAN.</summary>
public sealed class DamagedTreeTests : IDisposable
{
    private readonly TestImages _images = new();
    private readonly TestEngine _t = new();

    public DamagedTreeTests()
    {
        var img = _images.FileSystem("ext4", 16, "damaged", _images.Tree("d", ("bad/b.txt", "x"), ("good/a.txt", "fine")));
        Shell.Run($"debugfs -w -R 'clri bad' '{img}' 2>/dev/null");
        _t.Engine.AttachImage(img, "d");
    }

    public void Dispose() { _t.Dispose(); _images.Dispose(); }

    [Fact]
    public void ExportReportsTheDamagedEntryAndGoesOn()
    {
        var errors = new List<string>();
        var tar = new MemoryStream();
        var result = _t.Engine.Export("/d/raw", tar, new ExportOptions(ExportFormat.Tar) { OnError = (p, _) => errors.Add(p) });
        Assert.Contains(result.Errors, e => e.StartsWith("bad"));
        Assert.Equal(["bad"], errors);
        tar.Position = 0;
        var names = new List<string>();
        using (var reader = new System.Formats.Tar.TarReader(tar))
            while (reader.GetNextEntry() is { } e) names.Add(e.Name);
        Assert.Contains("good/a.txt", names);
    }

    [Fact]
    public void StopOnErrorStopsAtTheDamagedEntry()
    {
        var ex = Assert.Throws<RestoreException>(() =>
            _t.Engine.Export("/d/raw", new MemoryStream(), new ExportOptions(ExportFormat.Tar) { StopOnError = true }));
        Assert.Equal(RestoreErrorCode.ReadFailed, ex.Code);
        Assert.Contains("bad", ex.Message);
    }

    [Fact]
    public void CopyReportsTheDamagedEntryAndCopiesTheRest()
    {
        string dest = _images.Tree("dest");
        var result = _t.Engine.Copy("/d/raw", dest, new CopyOptions());
        Assert.Contains(result.Errors, e => e.StartsWith("bad"));
        Assert.Equal("fine", File.ReadAllText(Path.Combine(dest, "good/a.txt")));
    }
}
