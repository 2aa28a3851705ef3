using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Hostile;

/// <summary>
/// The checks themselves against restores made by the reference tools (GNU tar and cp on a
/// read-only mount of the corpus): what a correct restore looks like passes them, so a failing
/// hostile test is the engine's doing, not an impossible demand.
/// </summary>
[Collection("Hostile")]
public sealed class ReferenceRestoreTests(HostileCorpus corpus) : IDisposable
{
    private readonly ScratchDisk _scratch = new();
    private readonly string _mnt = Directory.CreateTempSubdirectory("rt-hostile-ref-").FullName;

    public void Dispose()
    {
        _scratch.Dispose();
        try { Directory.Delete(_mnt); } catch (IOException) { }
    }

    private string Mounted(string script) => Shell.Run(
        $"mount -o ro,loop,offset={1 << 20},sizelimit={48 << 20} '{corpus.Image}' '{_mnt}' && trap \"umount '{_mnt}'\" EXIT && {script}");

    [Fact]
    public void GnuTarSparseArchiveExtractedPassesTheChecks()
    {
        string archive = Path.Combine(_scratch.Root, "ref.tar"), sandbox = _scratch.NewDir("sandbox");
        Mounted($"tar --sparse --numeric-owner -C '{_mnt}' -cf '{archive}' . 2>/dev/null || true");
        Assert.True(new FileInfo(archive).Length < 64L << 20, "GNU tar's own archive of the corpus is small");
        // GNU tar 1.34 cannot make folders past PATH_MAX ("Cannot mkdir: File name too long"): the deep tree is checked in the archive.
        Shell.Run($"cd '{sandbox}' && tar --sparse -xf '{archive}' 2>/dev/null || true");
        DestinationChecks.SparseStaysSparse(sandbox, corpus, mustExist: true);
        DestinationChecks.DeepTreeInArchive(archive);
        DestinationChecks.NoSetIdWithoutOriginalOwner(sandbox, corpus);
        DestinationChecks.NoSentinelContent(sandbox, corpus);
        corpus.AssertImageUnchanged();
    }

    [Fact]
    public void CopyWithoutSpecialFilesPassesTheChecks()
    {
        string dest = _scratch.NewDir("copy");
        // A tar pipe keeps owners (so setid stays legitimate) and holes; special files are then left out,
        // as the engine must leave them. Neither tar nor cp -a goes past PATH_MAX: the deep check runs on the mount.
        Mounted($"(tar --sparse --numeric-owner -C '{_mnt}' -cf - --exclude=./deep . 2>/dev/null || true) | tar --sparse -C '{dest}' -xf - && " +
                $"find '{dest}' \\( -type b -o -type c -o -type p -o -type s \\) -delete && " +
                $"cd '{_mnt}/deep' && find . -name leaf.txt -printf '%d\\n' > '{dest}/deep-depth' && cd /");
        Assert.Equal($"{HostileCorpus.Depth + 1}\n", File.ReadAllText(Path.Combine(dest, "deep-depth")));
        DestinationChecks.NoSpecialFiles(dest);
        DestinationChecks.SparseStaysSparse(dest, corpus, mustExist: true);
        DestinationChecks.NoSetIdWithoutOriginalOwner(dest, corpus);
        DestinationChecks.NoSentinelContent(dest, corpus);
        DestinationChecks.LinksKeptAsLinks(dest, corpus, "links");
        corpus.AssertImageUnchanged();
    }
}
