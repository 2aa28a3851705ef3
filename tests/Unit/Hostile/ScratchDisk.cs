using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Hostile;

/// <summary>
/// A 1 GiB tmpfs of the test's own for destinations and archives: a copy that materialises a
/// 1 TB sparse file fills this, never the host disk. tmpfs keeps holes and answers SEEK_DATA.
/// </summary>
public sealed class ScratchDisk : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("rt-hostile-scratch-").FullName;

    public ScratchDisk() => Shell.Run($"mount -t tmpfs -o size=1G,mode=0755 rt-hostile '{Root}'");

    /// <summary>A new empty folder on the scratch disk.</summary>
    public string NewDir(string name)
    {
        string d = Path.Combine(Root, name);
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>Everything on the scratch disk except inside the given folders (to see that nothing landed beside them).</summary>
    public string SnapshotExcept(params string[] inside) => Shell.Run(
        $"cd '{Root}' && find . -mindepth 1 {string.Concat(inside.Select(d => $"\\( -path './{Path.GetRelativePath(Root, d)}' -o -path './{Path.GetRelativePath(Root, d)}/*' \\) -prune -o "))}" +
        "\\( -type d -printf '%p d\\n' \\) -o -printf '%p %y %s\\n' | sort");

    public void Dispose()
    {
        try { Shell.Run($"umount '{Root}'"); }
        catch (InvalidOperationException) { Shell.Run($"umount -l '{Root}'"); }
        try { Directory.Delete(Root); } catch (IOException) { }
    }
}
