using RestoreTools.Engine;
using RestoreTools.Engine.Browsing;
using RestoreTools.Engine.Export;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Hostile;

/// <summary>
/// The hostile corpus through one IRestoreEngine (the local engine, or an AgentClient on a real
/// agent process): copies, tar exports extracted by GNU tar, recursive listings. Each test checks
/// what a user would: nothing outside the destination appeared or changed (a sentinel folder the
/// image's links point at, and the scratch disk beside the destination), no privilege gained, no
/// special file made, no hole written out, the deep tree whole, the image byte-identical.
/// </summary>
public abstract class HostileEngineTests : IDisposable
{
    protected HostileCorpus Corpus { get; }
    protected ScratchDisk Scratch { get; } = new();
    protected abstract IRestoreEngine Engine { get; }
    protected abstract bool Remote { get; }
    /// <summary>Stops a running operation that overran its budget (a remote client is disposed).</summary>
    protected virtual void Abort() { }

    protected static readonly TimeSpan Budget = TimeSpan.FromSeconds(20);
    private const string P1 = "/h/part/1", P2 = "/h/part/2";

    protected HostileEngineTests(HostileCorpus corpus) => Corpus = corpus;

    public virtual void Dispose() => Scratch.Dispose();

    /// <summary>
    /// Runs one hostile operation with the checks every case shares: within the budget, ending
    /// cleanly (complete, or a RestoreException), nothing changed outside, the image unchanged.
    /// </summary>
    protected (ExportResult? Result, Exception? Error) Guarded(string what, Func<ExportResult> op, params string[] destinations)
    {
        string outsideBefore = Corpus.OutsideSnapshot();
        string scratchBefore = Scratch.SnapshotExcept(destinations);
        ExportResult? result = null;
        var error = HostileAssert.Outcome(() => result = HostileAssert.Within(Budget, what, op, Abort), Remote);
        SameTree("the outside folder " + Corpus.Outside, outsideBefore, Corpus.OutsideSnapshot());
        SameTree("the scratch disk beside the destination", scratchBefore, Scratch.SnapshotExcept(destinations));
        Corpus.AssertImageUnchanged();
        return (result, error);
    }

    protected static void SameTree(string where, string before, string after) => DestinationChecks.SameTree(where, before, after);

    private (ExportResult? Result, Exception? Error) Copy(string restorePath, string dest, CopyOptions? options = null) =>
        Guarded($"copy of {restorePath}", () => Engine.Copy(restorePath, dest, options ?? new CopyOptions()), dest);

    private static string Describe((ExportResult? Result, Exception? Error) r) =>
        r.Error is not null ? $"{r.Error.GetType().Name}: {r.Error.Message}" : "errors: " + string.Join(" | ", r.Result!.Errors);

    [Fact]
    public void CopyOfLinksKeepsThemAsLinksAndTouchesNothingOutside()
    {
        string dest = Scratch.NewDir("links");
        var r = Copy(P1 + "/links", dest);
        Assert.True(r.Error is null, Describe(r));
        DestinationChecks.LinksKeptAsLinks(dest, Corpus, "links");
        Assert.Equal("plain\n", File.ReadAllText(Path.Combine(dest, "links/plain.txt")));
        DestinationChecks.NoSentinelContent(dest, Corpus);
        Assert.Equal(Corpus.SentinelText, File.ReadAllText(Corpus.Sentinel));
    }

    [Fact]
    public void PathsThroughSymlinkedParentsStayInsideTheImage()
    {
        // symparent/link -> OUTSIDE: the image's own OUTSIDE folder, never the host's.
        string dest = Scratch.NewDir("symparent");
        var r = Copy(P1 + "/symparent/link/inside.txt", dest);
        Assert.True(r.Error is null, Describe(r));
        Assert.Equal("inside the image\n", File.ReadAllText(Path.Combine(dest, "inside.txt")));
        var missing = Copy(P1 + "/symparent/link/sentinel.txt", dest);
        Assert.True(missing.Error is RestoreException { Code: RestoreErrorCode.ItemNotFound }, "the host's sentinel was reachable: " + Describe(missing));
        Assert.False(File.Exists(Path.Combine(dest, "sentinel.txt")));
        // A link given as the item resolves inside the image too.
        foreach (var link in new[] { "/links/abs-outside", "/links/dotdot-outside", "/links/abs-outside-file" })
            Copy(P1 + link, Scratch.NewDir("item-" + link.Replace('/', '-')));
        DestinationChecks.NoSentinelContent(Scratch.Root, Corpus);
        foreach (var link in new[] { "/links/abs-outside-file", "/links/dotdot-outside-file", "/symparent/rel-link/inside.txt" })
        {
            string? text = null;
            HostileAssert.Outcome(() => { using var s = new StreamReader(Engine.OpenRead(P1 + link)); text = s.ReadToEnd(); }, Remote);
            Assert.NotEqual(Corpus.SentinelText, text);
        }
        DestinationChecks.NoSentinelContent(dest, Corpus);
    }

    [Fact]
    public void CopyIntoADestinationWhoseFolderIsASymlinkWritesNothingThroughIt()
    {
        // Issue 10, item 2: D/etc -> outside, then a copy of an image's etc into D.
        string dest = Scratch.NewDir("dest-with-link");
        File.CreateSymbolicLink(Path.Combine(dest, "etc"), Corpus.Outside);
        var r = Copy(P1 + "/twostage/b/etc", dest);
        Assert.False(File.Exists(Path.Combine(Corpus.Outside, "hostname")), "the copy wrote hostname through the destination's link into " + Corpus.Outside);
        Assert.False(File.Exists(Path.Combine(Corpus.Outside, "shadow")), "the copy wrote shadow through the destination's link");
        Assert.True(r.Error is not null || r.Result!.Errors.Count > 0, "the blocked folder must be reported");
        Assert.Equal(Corpus.Outside, new FileInfo(Path.Combine(dest, "etc")).LinkTarget);
    }

    [Fact]
    public void SecondCopyNeverWritesThroughTheLinkTheFirstCopyMade()
    {
        string dest = Scratch.NewDir("twostage");
        var first = Copy(P1 + "/twostage/a", dest);
        Assert.True(first.Error is null, Describe(first));
        Assert.Equal(Corpus.Outside, new FileInfo(Path.Combine(dest, "a/etc")).LinkTarget);
        var second = Copy(P1 + "/twostage/b/etc", Path.Combine(dest, "a"));
        Assert.False(File.Exists(Path.Combine(Corpus.Outside, "hostname")), "the second copy wrote through the first copy's link into " + Corpus.Outside);
        Assert.True(second.Error is not null || second.Result!.Errors.Count > 0, "the blocked folder must be reported");
    }

    [Fact]
    public void CopyGainsNoPrivilege()
    {
        // Issue 10, item 3: a uid 1000 file with 4755 must not become a root-owned 4755.
        string dest = Scratch.NewDir("setid");
        Copy(P1 + "/setid", dest);
        Copy(P1 + "/devices", dest);
        DestinationChecks.NoSetIdWithoutOriginalOwner(dest, Corpus);
        DestinationChecks.NoCapabilities(dest);
        Assert.True(File.Exists(Path.Combine(dest, "setid/suid-1000")), "setid/suid-1000 was not restored at all");
    }

    [Fact]
    public void CopyMakesNoDeviceNodesFifosOrSockets()
    {
        string dest = Scratch.NewDir("devices");
        var r = Copy(P1 + "/devices", dest);
        DestinationChecks.NoSpecialFiles(dest);
        Assert.True(Directory.Exists(Path.Combine(dest, "devices")), Describe(r));
    }

    [Fact]
    public void CopyKeepsSparseFilesSparse()
    {
        // Issue 10, item 4: a 1 TB sparse file, and one with data in the middle.
        string dest = Scratch.NewDir("sparse");
        var r = Copy(P1 + "/sparse", dest);
        Assert.True(r.Error is null, Describe(r));
        DestinationChecks.SparseStaysSparse(dest, Corpus, mustExist: true);
        foreach (var (path, sha) in Corpus.DataSha)
            Assert.Equal(sha, Shell.Run($"sha256sum < '{dest}/{path}'").Split(' ')[0]);
    }

    [Fact]
    public void CopyRestoresTheTreePastPathMax()
    {
        // Issue 10, item 5: 300 levels of 20-byte names, 6300 bytes of path.
        string dest = Scratch.NewDir("deep");
        var r = Copy(P1 + "/deep", dest);
        Assert.True(r.Error is null && r.Result!.Errors.Count == 0, Describe(r));
        DestinationChecks.DeepTreeComplete(Path.Combine(dest, "deep"));
    }

    [Fact]
    public void CopyRestoresEveryHostileNameAndEntry()
    {
        string dest = Scratch.NewDir("names");
        foreach (var folder in new[] { "names", "many", "perms", "times", "hardlinks" })
        {
            var r = Copy(P1 + "/" + folder, dest);
            Assert.True(r.Error is null && r.Result!.Errors.Count == 0, folder + ": " + Describe(r));
        }
        var missing = Corpus.OfKind("name", "mode", "mtime", "hardlink").Where(c => !c.Path.StartsWith("links/"))
            .Where(c => !Path.Exists(Path.Combine(dest, c.Path))).Select(c => c.Path).ToList();
        Assert.True(missing.Count == 0, "not restored: " + string.Join(", ", missing));
        Assert.Equal(HostileCorpus.ManyCount, Directory.EnumerateFileSystemEntries(Path.Combine(dest, "many")).Count());
        Assert.Equal("hard\n", File.ReadAllText(Path.Combine(dest, "hardlinks/sub/c")));
        Assert.Equal("2200-01-01", Shell.Run($"date -u -r '{dest}/times/future' +%F").Trim());
        Assert.Equal("1901-12-14", Shell.Run($"date -u -r '{dest}/times/pre1970' +%F").Trim());
    }

    [Fact]
    public void CopyOfDirentsNamingHostPathsReadsAndWritesNothingOutside()
    {
        // Partition 2: dirents named ../../../<outside>/sentinel.txt, "sub/inner", "..", ".".
        string dest = Scratch.NewDir("dirents");
        Copy(P2, dest);
        foreach (var folder in new[] { "escape", "slash", "dots" })
            Copy(P2 + "/" + folder, Scratch.NewDir("dirents-" + folder));
        DestinationChecks.NoSentinelContent(Scratch.Root, Corpus);
        DestinationChecks.NoSpecialFiles(Scratch.Root);
    }

    [Fact]
    public void CopyOfTheWholeCorpus()
    {
        string dest = Scratch.NewDir("whole");
        var r = Copy(P1, dest);
        DestinationChecks.NoSpecialFiles(dest);
        DestinationChecks.NoSetIdWithoutOriginalOwner(dest, Corpus);
        DestinationChecks.NoCapabilities(dest);
        DestinationChecks.NoSentinelContent(dest, Corpus);
        DestinationChecks.SparseStaysSparse(dest, Corpus, mustExist: true);
        DestinationChecks.DeepTreeComplete(Path.Combine(dest, "deep"));
        Assert.True(r.Error is null, Describe(r));
    }

    [Fact]
    public void TarExportExtractsWithGnuTarInsideItsFolderAndKeepsHoles()
    {
        string archive = Path.Combine(Scratch.Root, "corpus.tar");
        string sandbox = Scratch.NewDir("sandbox");
        var r = Guarded("tar export of " + P1, () =>
        {
            using var f = new CappedStream(File.Create(archive), 256L << 20, "the tar export");
            return Engine.Export(P1, f, new ExportOptions(ExportFormat.Tar));
        }, archive, sandbox);
        Assert.True(r.Error is null, Describe(r));
        string outsideBefore = Corpus.OutsideSnapshot();
        string scratchBefore = Scratch.SnapshotExcept(sandbox);
        // GNU tar 1.34 cannot make folders past PATH_MAX: the deep tree is checked in the archive itself.
        Shell.Run($"cd '{sandbox}' && tar --sparse -xf '{archive}' 2>/dev/null || true");
        SameTree("the outside folder (after tar -xf)", outsideBefore, Corpus.OutsideSnapshot());
        SameTree("the scratch disk beside the tar sandbox", scratchBefore, Scratch.SnapshotExcept(sandbox));
        DestinationChecks.SparseStaysSparse(sandbox, Corpus, mustExist: true);
        DestinationChecks.DeepTreeInArchive(archive);
        DestinationChecks.NoSetIdWithoutOriginalOwner(sandbox, Corpus);   // tar as root restores owners
        DestinationChecks.NoSentinelContent(sandbox, Corpus);
        // Special files are recorded as tar records them (GNU tar makes them again, as root, in the sandbox).
        string listing = Shell.Run($"tar --numeric-owner -tvf '{archive}' devices");
        Assert.Contains("crw-r--r-- 0/0", listing);
        Assert.Matches("(?m)^p.*devices/fifo$", listing);
    }

    [Fact]
    public void TarExportOfDirentsNamingHostPathsHoldsNoHostBytes()
    {
        string archive = Path.Combine(Scratch.Root, "dirents.tar");
        var r = Guarded("tar export of " + P2, () =>
        {
            using var f = new CappedStream(File.Create(archive), 64L << 20, "the tar export");
            return Engine.Export(P2, f, new ExportOptions(ExportFormat.Tar));
        }, archive);
        if (File.Exists(archive))
        {
            Assert.Equal("0", Shell.Run($"grep -caF -- '{Corpus.SentinelText.Trim()}' '{archive}' || true").Trim());
            Assert.DoesNotContain("../", Shell.Run($"tar -tf '{archive}' 2>/dev/null || true"));
        }
        Assert.True(r.Error is not null || r.Result!.Errors.Count > 0, "the unlistable folders must be reported");
    }

    [Fact]
    public void RecursiveListingIsCompleteAndEndsCleanly()
    {
        // Issue 10, item 5: past PATH_MAX a recursive listing ended with a raw NativeException.
        string outsideBefore = Corpus.OutsideSnapshot();
        var (items, errors) = HostileAssert.Within(Budget, "recursive listing of " + P1, () => ListTree(P1), Abort);
        Assert.True(errors.Count == 0, "folders of a clean filesystem failed to list: " + string.Join("; ", errors.Take(5).Select(e => $"{e.Path}: {e.Error.GetType().Name}: {e.Error.Message}")));
        Assert.Equal(Corpus.Part1EntryCount, items.Count);
        Assert.Equal(Corpus.Part1NonUtf8Count, items.Count(i => i.Path.StartsWith(P1 + "/nonutf8/", StringComparison.Ordinal)));
        Assert.Contains(items, i => i.Name == "leaf.txt" && i.Path.Length > 4096);
        Assert.Equal(HostileCorpus.ManyCount, items.Count(i => i.Path.StartsWith(P1 + "/many/", StringComparison.Ordinal)));
        Assert.All(items.Where(i => i.Path.StartsWith(P1 + "/links/", StringComparison.Ordinal) && i.Name != "plain.txt" && i.Name != "hardlink-from-links"),
            i => Assert.Equal(ItemType.Symlink, i.Type));

        var (items2, errors2) = HostileAssert.Within(Budget, "recursive listing of " + P2, () => ListTree(P2), Abort);
        foreach (var (_, error) in errors2)
            HostileAssert.Outcome(() => throw error, Remote);
        Assert.Contains(errors2, e => e.Path.EndsWith("/escape", StringComparison.Ordinal));
        Assert.All(items2, i => Assert.True(!i.Name.Contains('/') && i.Name is not ("." or ".."), $"listed a hostile name '{i.Name}' at {i.Path}"));
        Assert.All(items.Concat(items2), i => Assert.StartsWith("/h/part/", i.Path));
        SameTree("the outside folder", outsideBefore, Corpus.OutsideSnapshot());
        Corpus.AssertImageUnchanged();
    }

    /// <summary>Lists a tree folder by folder, as Get-RestoreChildItem -Recurse does (into folders only, never links).</summary>
    private (List<RestoreItem> Items, List<(string Path, Exception Error)> Errors) ListTree(string root)
    {
        var items = new List<RestoreItem>();
        var errors = new List<(string, Exception)>();
        var pending = new Stack<string>([root]);
        while (pending.Count > 0)
        {
            string folder = pending.Pop();
            try
            {
                foreach (var item in Engine.List(folder))
                {
                    items.Add(item);
                    // A dirent named ".." or holding '/' is reported by the caller's checks, never walked into.
                    bool hostile = item.Name is "." or ".." || item.Name.Contains('/');
                    if (item.Type == ItemType.Directory && !hostile) pending.Push(item.Path);
                    Assert.True(items.Count < 100_000, $"the listing of {root} did not end: {items.Count} entries");
                }
            }
            catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
            {
                errors.Add((folder, ex));
            }
        }
        return (items, errors);
    }
}
