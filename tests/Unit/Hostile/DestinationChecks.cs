using RestoreTools.Engine;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Hostile;

/// <summary>
/// What a user checks in a restored tree (a copy, or an archive extracted by GNU tar), with the
/// real tools: find, stat, getcap, grep. Paths in the tree are the manifest's paths.
/// </summary>
public static class DestinationChecks
{
    /// <summary>Fails with the lines that appeared and disappeared between two snapshots.</summary>
    public static void SameTree(string where, string before, string after)
    {
        if (before == after) return;
        var b = before.Split('\n').ToHashSet();
        var a = after.Split('\n').ToHashSet();
        Assert.Fail($"{where} changed:\n  now: {string.Join("\n  now: ", a.Except(b))}\n  was: {string.Join("\n  was: ", b.Except(a))}");
    }

    /// <summary>No device node, FIFO or socket was made.</summary>
    public static void NoSpecialFiles(string dest) =>
        Assert.Equal("", Shell.Run($"cd '{dest}' && find . \\( -type b -o -type c -o -type p -o -type s \\) -printf '%p %y\\n'"));

    /// <summary>
    /// setuid only on files owned by their original owner, setgid only with the original group,
    /// sticky only with the original owner: what cp -a and tar do when owners are not restored.
    /// </summary>
    public static void NoSetIdWithoutOriginalOwner(string dest, HostileCorpus corpus)
    {
        // Every case whose detail is "MODE UID:GID" (setid and sticky files and folders, the setuid FIFO).
        var original = corpus.Cases.Where(c => c.Part == 1 && System.Text.RegularExpressions.Regex.IsMatch(c.Detail, @"^[0-7]{4} \d+:\d+$"))
            .ToDictionary(c => c.Path, c => c.Detail.Split(' ')[1].Split(':').Select(long.Parse).ToArray());
        string found = Shell.Run($"cd '{dest}' && find . -perm /7000 -printf '%P\\t%U\\t%G\\t%m\\n'");
        var bad = new List<string>();
        foreach (var line in found.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split('\t');
            int mode = Convert.ToInt32(f[3], 8);
            long uid = long.Parse(f[1]), gid = long.Parse(f[2]);
            if (!original.TryGetValue(f[0], out var owner)) { bad.Add($"{f[0]} {f[3]} {uid}:{gid}: the image gave it no such bits"); continue; }
            if ((mode & 0x800) != 0 && uid != owner[0]) bad.Add($"{f[0]}: setuid {f[3]} owned by {uid}, originally {owner[0]}");
            if ((mode & 0x400) != 0 && gid != owner[1]) bad.Add($"{f[0]}: setgid {f[3]} group {gid}, originally {owner[1]}");
            if ((mode & 0x200) != 0 && uid != owner[0]) bad.Add($"{f[0]}: sticky {f[3]} owned by {uid}, originally {owner[0]}");
        }
        Assert.True(bad.Count == 0, "privilege gained: " + string.Join("; ", bad));
    }

    /// <summary>File capabilities (security.capability) are never restored: they are privilege whoever owns the file.</summary>
    public static void NoCapabilities(string dest)
    {
        string caps = Shell.Run($"cd '{dest}' && find . -type f -size -1M -execdir getcap {{}} + 2>/dev/null || true");
        Assert.True(caps.Trim().Length == 0, "capabilities restored: " + caps);
    }

    /// <summary>Each sparse case that is there keeps its size and holds no more blocks than its data (+1 MiB).</summary>
    public static void SparseStaysSparse(string dest, HostileCorpus corpus, bool mustExist)
    {
        foreach (var c in corpus.OfKind("sparse"))
        {
            string file = Path.Combine(dest, c.Path);
            if (!File.Exists(file))
            {
                Assert.False(mustExist, $"sparse file {c.Path} was not restored");
                continue;
            }
            var d = c.Detail.Split(' ').Select(long.Parse).ToArray();
            var st = Shell.Run($"stat -c '%s %b %B' '{file}'").Trim().Split(' ').Select(long.Parse).ToArray();
            if (mustExist) Assert.True(d[0] == st[0], $"{c.Path}: size {st[0]}, expected {d[0]}");
            long allocated = st[1] * st[2];
            Assert.True(allocated <= d[1] + (1 << 20), $"{c.Path}: {allocated} bytes allocated for {d[1]} bytes of data (size {st[0]}): the holes were written out");
        }
        long total = long.Parse(Shell.Run($"du -s --block-size=1 '{dest}' | cut -f1").Trim());
        Assert.True(total < 64L << 20, $"the restored tree takes {total} bytes: the corpus holds ~2 MiB of data");
    }

    /// <summary>The 300-level tree is there down to its leaf, with the leaf's bytes.</summary>
    public static void DeepTreeComplete(string deepDir)
    {
        Assert.True(Directory.Exists(deepDir), $"'{deepDir}' was not restored");
        string depth = Shell.Run($"cd '{deepDir}' && find . -name leaf.txt -printf '%d\\n'").Trim();
        Assert.True(depth == (HostileCorpus.Depth + 1).ToString(), $"the deep tree's leaf.txt was found at depth '{depth}', expected {HostileCorpus.Depth + 1}");
        Assert.Equal("bottom of the deep tree\n", Shell.Run(
            $"cd '{deepDir}' && for i in $(seq {HostileCorpus.Depth}); do cd {HostileCorpus.DeepSegment}; done && cat leaf.txt"));
    }

    /// <summary>
    /// The deep tree in an archive: its leaf under 300 folders, with its bytes (GNU tar 1.34 lists and
    /// prints members past PATH_MAX, but cannot make their folders when extracting).
    /// </summary>
    public static void DeepTreeInArchive(string archive)
    {
        string leaf = string.Concat(Enumerable.Repeat(HostileCorpus.DeepSegment + "/", HostileCorpus.Depth)) + "leaf.txt";
        string listing = Shell.Run($"tar -tf '{archive}' | grep -F 'leaf.txt' || true");
        Assert.True(listing.Contains("deep/" + leaf), "the archive does not hold deep/.../leaf.txt 300 levels down: " + listing[..Math.Min(200, listing.Length)]);
        string member = listing.Split('\n').First(l => l.EndsWith("deep/" + leaf, StringComparison.Ordinal));
        Assert.Equal("bottom of the deep tree\n", Shell.Run($"tar -xOf '{archive}' '{member}'"));
    }

    /// <summary>The outside sentinel's bytes are nowhere in the tree (nothing read through a hostile name or link).</summary>
    public static void NoSentinelContent(string dest, HostileCorpus corpus)
    {
        string hits = Shell.Run($"cd '{dest}' && find . -type f -size -1M -execdir grep -lF -- '{corpus.SentinelText.Trim()}' {{}} + 2>/dev/null || true");
        Assert.True(hits.Trim().Length == 0, "the host's sentinel was read into the restore: " + hits);
    }

    /// <summary>Links are restored as links with their targets (never followed, never resolved).</summary>
    public static void LinksKeptAsLinks(string dest, HostileCorpus corpus, string folder)
    {
        foreach (var c in corpus.OfKind("symlink", "symlink-outside").Where(c => c.Path.StartsWith(folder + "/", StringComparison.Ordinal)))
        {
            var fi = new FileInfo(Path.Combine(dest, c.Path));
            Assert.True(fi.LinkTarget == c.Detail, $"{c.Path}: expected a link to '{c.Detail}', found {(fi.Exists || fi.LinkTarget is not null ? $"'{fi.LinkTarget}'" : "nothing")}");
        }
    }
}

/// <summary>How a hostile operation may end, and the budget it has.</summary>
public static class HostileAssert
{
    /// <summary>Runs op; an op still running after the budget fails the test as a hang (abort is called to stop it).</summary>
    public static T Within<T>(TimeSpan budget, string what, Func<T> op, Action? abort = null)
    {
        var task = Task.Run(op);
        if (!task.Wait(budget) && !task.IsCompleted)
        {
            abort?.Invoke();
            Assert.Fail($"{what} did not finish within {budget.TotalSeconds:0} s");
        }
        return task.GetAwaiter().GetResult();
    }

    /// <summary>
    /// The outcome of an operation on hostile input: it completes (per-entry errors allowed) or fails
    /// with a RestoreException (or an IOException / AgentException for a remote one); anything else
    /// (a raw NativeException, ArgumentException, NullReference...) fails the test.
    /// </summary>
    public static Exception? Outcome(Action op, bool remote = false)
    {
        try { op(); return null; }
        catch (AggregateException ae) when (ae.InnerExceptions.Count == 1) { return Classify(ae.InnerException!, remote); }
        catch (Exception ex) { return Classify(ex, remote); }
    }

    private static Exception Classify(Exception ex, bool remote)
    {
        if (ex is Xunit.Sdk.XunitException) throw ex;
        if (FindCap(ex) is { } cap) throw cap;
        bool clean = ex is RestoreException || (remote && (ex is IOException || ex is Contract.AgentException));
        Assert.True(clean, $"ended with {ex.GetType().FullName} instead of a RestoreException: {ex.Message}\n{ex.StackTrace}");
        return ex;
    }

    private static OutputCapExceeded? FindCap(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
            if (ex is OutputCapExceeded cap) return cap;
        return null;
    }
}

/// <summary>Thrown by CappedStream: an export wrote far more than the tree holds.</summary>
public sealed class OutputCapExceeded(string message) : Xunit.Sdk.XunitException(message);

/// <summary>A file output that fails the test once an export writes past its cap (a sparse file written out).</summary>
public sealed class CappedStream(Stream inner, long cap, string what) : Stream
{
    public long Written { get; private set; }
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Written += buffer.Length;
        if (Written > cap)
            throw new OutputCapExceeded($"{what} wrote over {cap >> 20} MiB for a corpus of ~10 MiB: holes were written out as zeros");
        inner.Write(buffer);
    }
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => Written;
    public override long Position { get => Written; set => throw new NotSupportedException(); }
    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
