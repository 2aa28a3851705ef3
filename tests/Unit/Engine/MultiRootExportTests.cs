using RestoreTools.Engine;
using RestoreTools.Engine.Export;
using RestoreTools.Engine.Paths;
using RestoreTools.Tests.Unit.Hostile;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Engine;

/// <summary>Two real ext4 images: items of both go into one archive; names that clash; filtered and flat copies.</summary>
public sealed class MultiRootSample : IDisposable
{
    public TestImages Images { get; } = new();
    public string TreeA { get; }
    public string TreeB { get; }
    public string ImageA { get; }
    public string ImageB { get; }

    public MultiRootSample()
    {
        TreeA = Images.Tree("a",
            ("etc/hostname", "multi-a\n"),
            ("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
            ("etc/hosts", "127.0.0.1 a\n"),
            ("home/alice/notes.txt", "alice's notes\n"),
            ("home/alice/todo.md", "- export\n"),
            ("home/alice/secret.txt", "hush\n"),
            ("home/alice/Upper.TXT", "case\n"),
            ("home/alice/deep/er/plan.txt", "deep plan\n"),
            ("home/alice/deep/er/data.bin", "binary"),
            ("home/alice/link-to-notes", "->notes.txt"),
            ("home/alice/x.log", "shared data\n"));
        var big = new byte[2 * 1024 * 1024 + 5];
        new Random(7).NextBytes(big);
        File.WriteAllBytes(Path.Combine(TreeA, "home/alice/big.dat"), big);
        // One file, two names: a hard link that only one of the filters below keeps.
        Shell.Run($"ln '{TreeA}/home/alice/x.log' '{TreeA}/home/alice/y.txt'");
        ImageA = Images.FileSystem("ext4", 32, "multia", TreeA);

        TreeB = Images.Tree("b",
            ("etc/hosts", "127.0.0.1 b\n"),
            ("data/report.txt", "top report\n"),
            ("data/sub/report.txt", "sub report\n"),
            ("data/sub/other.bin", "other"));
        ImageB = Images.FileSystem("ext4", 32, "multib", TreeB);
    }

    public void Dispose() => Images.Dispose();
}

public sealed class MultiRootExportTests(MultiRootSample sample) : IDisposable, IClassFixture<MultiRootSample>
{
    private readonly TestImages _work = new();
    private readonly TestEngine _t = NewEngine(sample);

    private static TestEngine NewEngine(MultiRootSample sample)
    {
        var t = new TestEngine();
        t.Engine.AttachImage(sample.ImageA, "a");
        t.Engine.AttachImage(sample.ImageB, "b");
        return t;
    }

    public void Dispose() { _t.Dispose(); _work.Dispose(); }

    /// <summary>sha256 of every regular file and the target of every link, relative to a folder.</summary>
    private static string Manifest(string dir) => Shell.Run(
        $"cd '{dir}' && find . \\( -type f -exec sha256sum {{}} + \\) -o \\( -type l -printf '%p -> %l\\n' \\) | sort");

    private string Extract(string archive, string how)
    {
        string dir = Path.Combine(_work.Dir, "x-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        Shell.Run($"cd '{dir}' && {how} '{archive}'");
        return dir;
    }

    [Theory]
    [InlineData(ExportFormat.Tar, "tar -xf")]
    [InlineData(ExportFormat.TarGz, "tar -xzf")]
    [InlineData(ExportFormat.TarZst, "tar --zstd -xf")]
    [InlineData(ExportFormat.Zip, "unzip -q")]
    public void ItemsOfTwoDisksGoIntoOneArchiveEachUnderItsOwnName(ExportFormat format, string extract)
    {
        string archive = Path.Combine(_work.Dir, "multi." + format);
        ExportResult result;
        using (var f = File.Create(archive))
            result = _t.Engine.Export(["/a/raw/etc/hostname", "/a/raw/etc/passwd", "/a/raw/home/alice", "/b/raw/data"], f, new ExportOptions(format));
        Assert.Empty(result.Errors);
        string dir = Extract(archive, extract);
        Assert.Equal(["alice", "data", "hostname", "passwd"], Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(Shell.Sha256(Path.Combine(sample.TreeA, "etc/hostname")), Shell.Sha256(Path.Combine(dir, "hostname")));
        Assert.Equal(Shell.Sha256(Path.Combine(sample.TreeA, "etc/passwd")), Shell.Sha256(Path.Combine(dir, "passwd")));
        Assert.Equal(Manifest(Path.Combine(sample.TreeA, "home/alice")), Manifest(Path.Combine(dir, "alice")));
        Assert.Equal(Manifest(Path.Combine(sample.TreeB, "data")), Manifest(Path.Combine(dir, "data")));
    }

    [Fact]
    public void TheTarListsEveryRootAtItsTopAsTarCfDoes()
    {
        string archive = Path.Combine(_work.Dir, "list.tar");
        using (var f = File.Create(archive)) _t.Engine.Export(["/a/raw/etc/hostname", "/b/raw/etc/hosts", "/b/raw/data/sub"], f, new ExportOptions(ExportFormat.Tar));
        var names = Shell.Run($"tar -tf '{archive}'").Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal);
        Assert.Equal(["hostname", "hosts", "sub/", "sub/other.bin", "sub/report.txt"], names);
    }

    [Fact]
    public void ABucketRootGoesUnderItsOwnNameAndOnePathIsTheSingleExport()
    {
        string archive = Path.Combine(_work.Dir, "bucket.tar");
        using (var f = File.Create(archive)) _t.Engine.Export(["/a/raw", "/b/raw/etc/hosts"], f, new ExportOptions(ExportFormat.Tar));
        var names = Shell.Run($"tar -tf '{archive}'").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("raw/etc/hostname", names);
        Assert.Contains("hosts", names);

        // One path in the list: the same archive Export(string) writes (a bucket's entries at the top).
        string one = Path.Combine(_work.Dir, "one.tar"), single = Path.Combine(_work.Dir, "single.tar");
        using (var f = File.Create(one)) _t.Engine.Export(["/b/raw"], f, new ExportOptions(ExportFormat.Tar));
        using (var f = File.Create(single)) _t.Engine.Export("/b/raw", f, new ExportOptions(ExportFormat.Tar));
        Assert.Equal(Shell.Sha256(single), Shell.Sha256(one));
        Assert.Contains("etc/hosts", Shell.Run($"tar -tf '{one}'").Split('\n'));
    }

    [Fact]
    public void TwoItemsWithOneNameAreRefusedBeforeAnythingIsWritten()
    {
        var output = new MemoryStream();
        var ex = Assert.Throws<RestoreException>(() => _t.Engine.Export(["/a/raw/etc/passwd", "/a/raw/etc/hosts", "/b/raw/etc/hosts"], output, new ExportOptions(ExportFormat.Tar)));
        Assert.Equal(RestoreErrorCode.NameInUse, ex.Code);
        Assert.Contains("/a/raw/etc/hosts", ex.Message);
        Assert.Contains("/b/raw/etc/hosts", ex.Message);
        Assert.Equal(0, output.Length);

        // Two bucket roots of two disks are both 'raw'.
        Assert.Equal(RestoreErrorCode.NameInUse, Assert.Throws<RestoreException>(() => _t.Engine.Export(["/a/raw", "/b/raw"], output, new ExportOptions(ExportFormat.Zip))).Code);
        var twice = Assert.Throws<RestoreException>(() => _t.Engine.Export(["/a/raw/etc/hosts", "/a/raw/etc/hosts"], output, new ExportOptions(ExportFormat.Tar)));
        Assert.Contains("given twice", twice.Message);
        Assert.Equal(0, output.Length);
    }

    [Fact]
    public void RawTakesOneItemAndPartialPathsAreRefused()
    {
        var output = new MemoryStream();
        Assert.Equal(RestoreErrorCode.NotSupported, Assert.Throws<RestoreException>(() =>
            _t.Engine.Export(["/a/raw/etc/hosts", "/a/raw/etc/passwd"], output, new ExportOptions(ExportFormat.Raw))).Code);
        Assert.Equal(RestoreErrorCode.InvalidPath, Assert.Throws<RestoreException>(() =>
            _t.Engine.Export(["/a/raw/etc/hosts", "/b"], output, new ExportOptions(ExportFormat.Tar))).Code);
        Assert.Equal(RestoreErrorCode.ItemNotFound, Assert.Throws<RestoreException>(() =>
            _t.Engine.Export(["/a/raw/etc/hosts", "/b/raw/nope"], output, new ExportOptions(ExportFormat.Tar))).Code);
        Assert.Equal(RestoreErrorCode.InvalidPath, Assert.Throws<RestoreException>(() =>
            _t.Engine.Export(Array.Empty<string>(), output, new ExportOptions(ExportFormat.Tar))).Code);
        Assert.Equal(0, output.Length);
    }

    [Fact]
    public void IncludeAndExcludePickFilesByNameAndKeepEveryFolder()
    {
        string archive = Path.Combine(_work.Dir, "filtered.tar");
        using (var f = File.Create(archive))
            _t.Engine.Export(["/a/raw/home/alice", "/b/raw/data"], f, new ExportOptions(ExportFormat.Tar) { Include = ["*.txt"], Exclude = ["secret*", "[r]eport.txt"] });
        var names = Shell.Run($"tar -tf '{archive}'").Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal);
        // Case-insensitive as PowerShell's wildcards; folders kept even where nothing in them matched.
        Assert.Equal(["alice/", "alice/Upper.TXT", "alice/deep/", "alice/deep/er/", "alice/deep/er/plan.txt", "alice/notes.txt", "alice/y.txt", "data/", "data/sub/"], names);
        // y.txt shares its data with x.log, which was left out: it is a file of its own, never a link to nothing.
        string dir = Extract(archive, "tar -xf");
        Assert.Equal("shared data\n", File.ReadAllText(Path.Combine(dir, "alice/y.txt")));
    }

    [Fact]
    public void AFileRootLeftOutByTheFiltersIsNotWritten()
    {
        string archive = Path.Combine(_work.Dir, "root-filtered.tar");
        using (var f = File.Create(archive))
            _t.Engine.Export(["/a/raw/etc/hosts", "/a/raw/etc/passwd"], f, new ExportOptions(ExportFormat.Tar) { Exclude = ["host?"] });
        Assert.Equal("passwd", Shell.Run($"tar -tf '{archive}'").Trim());
        Assert.Equal(RestoreErrorCode.InvalidPath, Assert.Throws<RestoreException>(() =>
            _t.Engine.Export("/a/raw/etc/hosts", new MemoryStream(), new ExportOptions(ExportFormat.Raw) { Filter = "*.conf" })).Code);
    }

    [Fact]
    public void ACopyTakesIncludeExcludeAndFilter()
    {
        string dest = Path.Combine(_work.Dir, "copy-filtered");
        var result = _t.Engine.Copy("/a/raw/home/alice", dest, new CopyOptions { Include = ["*.txt", "*.md"], Exclude = ["secret.txt"], Filter = "*o*" });
        Assert.Empty(result.Errors);
        var files = Shell.Run($"cd '{dest}' && find . -type f | sort").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["./notes.txt", "./todo.md"], files);
        Assert.True(Directory.Exists(Path.Combine(dest, "deep/er")));
        Assert.Equal(Shell.Sha256(Path.Combine(sample.TreeA, "home/alice/notes.txt")), Shell.Sha256(Path.Combine(dest, "notes.txt")));
    }

    [Fact]
    public void AFlatCopyPutsEveryFileInTheDestinationAndNeverOverwritesOneItWrote()
    {
        string dest = Path.Combine(_work.Dir, "flat");
        Directory.CreateDirectory(dest);
        File.WriteAllText(Path.Combine(dest, "other.bin"), "was here");
        var errors = new List<(string, string)>();
        var result = _t.Engine.Copy("/b/raw/data", dest, new CopyOptions { Container = false, OnError = (p, r) => errors.Add((p, r)) });
        // No folders made; the two report.txt clash: the first stays, the later is an error; other.bin existed.
        Assert.Empty(Directory.EnumerateDirectories(dest));
        Assert.Equal(["other.bin", "report.txt"], Directory.EnumerateFiles(dest).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal("was here", File.ReadAllText(Path.Combine(dest, "other.bin")));
        Assert.Equal(2, result.Errors.Count);
        Assert.Contains(errors, e => e.Item2.Contains("already copied from") && e.Item1.EndsWith("report.txt"));
        Assert.Contains(errors, e => e.Item2.EndsWith(CopyOptions.ExistsReason));
        string kept = File.ReadAllText(Path.Combine(dest, "report.txt"));
        Assert.True(kept is "top report\n" or "sub report\n");

        // Force replaces what was there before the copy, never a file the copy itself wrote.
        errors.Clear();
        var forced = _t.Engine.Copy("/b/raw/data", dest, new CopyOptions { Container = false, Force = true, OnError = (p, r) => errors.Add((p, r)) });
        Assert.Equal("other", File.ReadAllText(Path.Combine(dest, "other.bin")));
        Assert.Single(forced.Errors);
        Assert.Contains("already copied from", Assert.Single(errors).Item2);
    }

    [Fact]
    public void AFlatCopyMakesAMissingDestinationFolderAndKeepsHardLinksWhereItCan()
    {
        string dest = Path.Combine(_work.Dir, "flat-new");
        var result = _t.Engine.Copy("/a/raw/home/alice", dest, new CopyOptions { Container = false, Include = ["*.log", "*.txt", "*.TXT"] });
        Assert.Empty(result.Errors);
        Assert.Equal(["Upper.TXT", "notes.txt", "plan.txt", "secret.txt", "x.log", "y.txt"], Directory.EnumerateFiles(dest).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(Shell.Run($"stat -c %i '{dest}/x.log'"), Shell.Run($"stat -c %i '{dest}/y.txt'"));
        Assert.Equal("deep plan\n", File.ReadAllText(Path.Combine(dest, "plan.txt")));
        // A file given itself is copied as always, whatever -Container says.
        string file = Path.Combine(_work.Dir, "one-file");
        Directory.CreateDirectory(file);
        _t.Engine.Copy("/a/raw/etc/hosts", file, new CopyOptions { Container = false });
        Assert.Equal("127.0.0.1 a\n", File.ReadAllText(Path.Combine(file, "hosts")));
    }

    [Fact]
    public void AFlatCopyFromAnArchiveRefilterssAndNeverLinksToAFileItDidNotWrite()
    {
        // An agent's archive that ignored the filters, and whose hard link names a file the flat copy dropped.
        var tar = new HostileTar()
            .Dir("d").File("d/keep.txt", "keep").File("d/skip.log", "skip")
            .Dir("d/s").File("d/s/keep.txt", "second").HardLink("d/s/link.txt", "d/s/keep.txt")
            .Bytes();
        string dest = Path.Combine(_work.Dir, "flat-tar");
        var errors = new List<string>();
        var result = TreeCopy.FromTar(new MemoryStream(tar), "d", dest, new CopyOptions { Container = false, Include = ["*.txt"], OnError = (p, r) => errors.Add(p + ": " + r) });
        Assert.Equal(["keep.txt"], Directory.EnumerateFileSystemEntries(dest).Select(Path.GetFileName));
        Assert.Equal("keep", File.ReadAllText(Path.Combine(dest, "keep.txt")));
        Assert.Equal(2, result.Errors.Count);
        Assert.Contains(errors, e => e.Contains("already copied from"));
        Assert.Contains(errors, e => e.Contains("did not write"));
    }

    [Theory]
    [InlineData("*.txt", "notes.TXT", true)]
    [InlineData("*.txt", "notes.txt.bak", false)]
    [InlineData("n?tes.*", "notes.md", true)]
    [InlineData("[a-c]*", "bob", true)]
    [InlineData("[a-c]*", "dave", false)]
    [InlineData("[xyz]", "Y", true)]
    [InlineData("a`*b", "a*b", true)]
    [InlineData("a`*b", "axb", false)]
    [InlineData("*", "", true)]
    [InlineData("a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false)]
    [InlineData("*x*y*", "..x..y..", true)]
    public void WildcardsMatchAsPowerShellsDo(string pattern, string name, bool match) =>
        Assert.Equal(match, RestoreWildcard.Parse(pattern, ignoreCase: true).IsMatch(name));

    [Fact]
    public void AnUnclosedSetIsAClearError() =>
        Assert.Equal(RestoreErrorCode.InvalidPath, Assert.Throws<RestoreException>(() => RestoreWildcard.Parse("[abc", ignoreCase: true)).Code);
}
