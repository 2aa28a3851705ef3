using System.Text.Json;
using RestoreTools.Contract;
using RestoreTools.Engine;
using RestoreTools.Engine.Export;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Hostile;

/// <summary>
/// The real remote copy (AgentClient.Copy) against a compromised agent that serves hostile tar
/// archives (and one lying resolve answer): nothing may be written, linked or changed outside the destination, no privilege
/// gained, no special file made, and the call ends (within 20 s) with a clear error or per-entry
/// errors, never an unhandled exception of another kind.
/// </summary>
public sealed class FakeAgentTests : IDisposable
{
    private readonly string _outside = Directory.CreateTempSubdirectory("rt-fake-out-").FullName;
    private readonly ScratchDisk _scratch = new();
    private readonly string _sentinelText = "fake-agent sentinel " + Guid.NewGuid().ToString("N") + "\n";
    private string Sentinel => Path.Combine(_outside, "sentinel.txt");
    // 12 levels climb out of the scratch destination; short enough for ustar's 100-byte name and link fields.
    private static readonly string Up = string.Concat(Enumerable.Repeat("../", 12));
    private const string ItemPath = "/f/part/1/x";

    public FakeAgentTests()
    {
        File.WriteAllText(Sentinel, _sentinelText);
        Directory.CreateDirectory(Path.Combine(_outside, "dir"));
        File.WriteAllText(Path.Combine(_outside, "dir/keep.txt"), "keep\n");
    }

    public void Dispose()
    {
        _scratch.Dispose();
        try { Directory.Delete(_outside, recursive: true); } catch (IOException) { }
    }

    /// <summary>Cases whose archive is harmless once refused: they need not report an error.</summary>
    private static readonly HashSet<string> Quiet = ["devices", "setuid-1000"];

    public static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        foreach (var name in new[]
        {
            "link-then-write", "link-to-outside-dir-then-overwrite", "root-is-link", "link-chain-then-write", "relative-link-then-write",
            "loop-links-then-write", "hardlink-absolute", "hardlink-through-link", "hardlink-dotdot", "hardlink-then-write",
            "dotdot-name", "absolute-name", "double-slash-absolute", "entry-outside-root", "pax-path-dotdot",
            "pax-linkpath-outside-then-write", "pax-path-nul", "pax-size-bigger", "pax-size-smaller-smuggles", "pax-size-garbage",
            "ustar-size-garbage", "gnu-longname-dotdot", "gnu-longlink-outside", "symlink-over-existing-dir", "file-replacing-folder",
            "devices", "setuid-1000", "truncated-in-data", "truncated-in-header", "truncated-http", "resolve-rootname-dotdot",
        })
            foreach (bool force in new[] { false, true }) data.Add(name, force);
        return data;
    }

    /// <summary>The extract answer for one case; O is the outside folder.</summary>
    private FakeAnswer Extract(string name)
    {
        string o = _outside, orel = Up + _outside.TrimStart('/');
        var t = new HostileTar();
        if (name is not ("root-is-link" or "resolve-rootname-dotdot")) t.Dir("x");
        switch (name)
        {
            case "link-then-write": t.Symlink("x/link", o).File("x/link/pwned.txt", "pwned"); break;
            case "link-to-outside-dir-then-overwrite": t.Symlink("x/l", o + "/dir").File("x/l/keep.txt", "overwritten"); break;
            case "root-is-link": t.Symlink("x", o).File("x/pwned-root.txt", "pwned"); break;
            case "link-chain-then-write": t.Symlink("x/a", "b").Symlink("x/b", o).File("x/a/pwned.txt", "pwned"); break;
            case "relative-link-then-write": t.Symlink("x/up", orel).File("x/up/pwned.txt", "pwned"); break;
            case "loop-links-then-write": t.Symlink("x/l1", "l2").Symlink("x/l2", "l1").File("x/l1/pwned.txt", "pwned"); break;
            case "hardlink-absolute": t.HardLink("x/h", Sentinel).File("x/after.txt", "after"); break;
            case "hardlink-through-link": t.Symlink("x/l", o).HardLink("x/h", "x/l/sentinel.txt"); break;
            case "hardlink-dotdot": t.HardLink("x/h", "x/" + orel + "/sentinel.txt"); break;
            case "hardlink-then-write": t.HardLink("x/h", Sentinel).File("x/h", "overwritten"); break;
            case "dotdot-name": t.File("x/" + orel + "/pwned-dotdot.txt", "pwned"); break;
            case "absolute-name": t.File(o + "/pwned-abs.txt", "pwned"); break;
            case "double-slash-absolute": t.File("x/" + o + "/pwned-abs2.txt", "pwned"); break;
            case "entry-outside-root": t.File("y/pwned.txt", "pwned"); break;
            case "pax-path-dotdot": t.Pax(("path", "x/" + orel + "/pwned-pax.txt")).File("x/ok.txt", "pwned"); break;
            case "pax-linkpath-outside-then-write": t.Pax(("linkpath", o)).Symlink("x/l", "short").File("x/l/pwned-paxlink.txt", "pwned"); break;
            case "pax-path-nul": t.Pax(("path", "x/a\0/../../pwned-nul.txt")).File("x/ok.txt", "pwned"); break;
            case "pax-size-bigger": t.Pax(("size", "1099511627776")).File("x/big.txt", "tiny"); break;
            case "pax-size-smaller-smuggles":
                var inner = new HostileTar().Symlink("x/evil", o).File("x/evil/pwned-smuggled.txt", "pwned").Bytes(end: false);
                t.Pax(("size", "0")).Entry("x/cover.txt", '0', inner.Length).Data(inner);
                break;
            case "pax-size-garbage": t.Pax(("size", "-1")).File("x/a.txt", "a"); break;
            case "ustar-size-garbage": t.Entry("x/g.txt", '0', 0, sizeField: "zzzzzzzzzzz\0").Data(new byte[512]); break;
            case "gnu-longname-dotdot": t.GnuLong('L', "x/" + orel + "/pwned-long.txt").File("x/short", "pwned"); break;
            case "gnu-longlink-outside": t.GnuLong('K', o).Symlink("x/lnk", "short").File("x/lnk/pwned-k.txt", "pwned"); break;
            case "symlink-over-existing-dir": t.Dir("x/sub").File("x/sub/a.txt", "a").Symlink("x/sub", o).File("x/sub/b.txt", "b"); break;
            case "file-replacing-folder": t.Dir("x/d").File("x/d/f.txt", "f").File("x/d", "replaced").File("x/d/g.txt", "g"); break;
            case "devices": t.Special("x/null", '3', 1, 3).Special("x/sda", '4', 8, 0).Special("x/fifo", '6').File("x/after.txt", "after"); break;
            case "setuid-1000": t.File("x/suid", "#!/bin/sh\nid\n", mode: 0x9ED /* 04755 */, uid: 1000, gid: 1000)
                                 .File("x/sgid", "#!/bin/sh\nid\n", mode: 0x5ED /* 02755 */, uid: 0, gid: 1000); break;
            // The resolve answer names the item "/x/..": its archive root is "..", one level above the destination.
            case "resolve-rootname-dotdot": t.Dir("..").File("../pwned-resolve.txt", "pwned"); break;
            case "truncated-in-data":
                return new FakeAnswer(200, "application/x-tar", t.Entry("x/big", '0', 1 << 20).Raw(new byte[1000]).Bytes(end: false), CloseDelimited: true);
            case "truncated-in-header":
                return new FakeAnswer(200, "application/x-tar", t.Raw(new HostileTar().File("x/f", "f").Bytes()[..100]).Bytes(end: false), CloseDelimited: true);
            case "truncated-http":
                // Content-Length announces the whole archive; the connection closes inside the file's data.
                var whole = t.File("x/f.txt", "f").File("x/g.bin", new string('g', 100_000)).Bytes();
                return new FakeAnswer(200, "application/x-tar", whole[..(whole.Length - 60_000)], DeclaredLength: whole.Length);
            default: throw new ArgumentException(name);
        }
        return new FakeAnswer(200, "application/x-tar", t.Bytes());
    }

    private static string ResolveJson(string name) => JsonSerializer.Serialize(
        new ResolvedPath(ItemPath, ResolvedKind.Item, "f", "part", "1", name == "resolve-rootname-dotdot" ? "/x/.." : "/x", "/run/restoretools/mnt/f/part/1/x", null, []),
        AgentJsonContext.Default.ResolvedPath);

    private string OutsideSnapshot() => HostileCorpus.Snapshot(_outside);

    [Theory]
    [MemberData(nameof(Cases))]
    public void RemoteCopyOfAHostileArchiveStaysInsideTheDestination(string name, bool force)
    {
        var extract = Extract(name);
        using var agent = new FakeAgent(target =>
            target.StartsWith("/api/v1/resolve?", StringComparison.Ordinal) ? FakeAnswer.Json(ResolveJson(name))
            : target.StartsWith("/api/v1/extract?", StringComparison.Ordinal) ? extract
            : FakeAnswer.Json("""{"code":"NotSupported","message":"the fake agent answers resolve and extract only"}""", 400));
        string dest = _scratch.NewDir("dest");
        string outsideBefore = OutsideSnapshot();
        string scratchBefore = _scratch.SnapshotExcept(dest);

        using var client = new AgentClient(agent.Endpoint, "fake-token");
        ExportResult? result = null;
        var error = HostileAssert.Outcome(() => result = HostileAssert.Within(TimeSpan.FromSeconds(20), $"remote copy of '{name}'",
            () => client.Copy(ItemPath, dest, new CopyOptions { Force = force }), client.Dispose), remote: true);

        DestinationChecks.SameTree("the outside folder " + _outside, outsideBefore, OutsideSnapshot());
        DestinationChecks.SameTree("the scratch disk beside the destination", scratchBefore, _scratch.SnapshotExcept(dest));
        Assert.Equal(_sentinelText, File.ReadAllText(Sentinel));
        Assert.Equal("1", Shell.Run($"stat -c %h '{Sentinel}'").Trim());   // no hard link to it anywhere
        DestinationChecks.NoSpecialFiles(dest);
        // As root the owners come back, so the bits stay with exactly their original owners (as tar -p does).
        Assert.Equal(name == "setuid-1000" ? "./x/sgid 2755 0:1000\n./x/suid 4755 1000:1000\n" : "",
            Shell.Run($"cd '{dest}' && find . -perm /6000 -printf '%p %m %U:%G\\n' | sort"));
        Assert.Contains(agent.Requests, r => r.StartsWith("GET /api/v1/extract?", StringComparison.Ordinal));
        if (!Quiet.Contains(name))
            Assert.True(error is not null || result!.Errors.Count > 0, $"'{name}' was taken without a word: no error and no per-entry error");
    }
}
