using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.State;

/// <summary>
/// What one engine has bound and mounted, written as it happens to a file of its own in the state
/// folder's owners/ directory (next to MountRoot), and held under an flock for the engine's life.
/// When the process dies, however it dies, the lock goes with it: the next engine to start on the
/// same state folder can then tell the file is an orphan and clean exactly what it lists
/// (<see cref="StaleStateCleaner"/>). Lines: "loop DEVICE MARKER", "mount MOUNTPOINT MAJ:MIN TOP",
/// and "-loop MARKER" / "-mount MOUNTPOINT" when undone; fields are URL-escaped, tab-separated.
/// </summary>
internal sealed class OwnerRecord : IDisposable
{
    private readonly EngineOptions _options;
    private readonly HashSet<string> _open = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private LockedFile? _file;
    private bool _failed;

    public OwnerRecord(EngineOptions options) => _options = options;

    /// <summary>Made at the first attach or mount: an engine that only browses leaves no file.</summary>
    private LockedFile? RecordFile()
    {
        if (_file is not null || _failed) return _file;
        try
        {
            string dir = DirFor(_options);
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            _file = LockedFile.Create(Path.Combine(dir, $"{Environment.ProcessId}-{Guid.NewGuid():N}.rec"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _failed = true;
            _options.Warning?.Invoke($"cannot keep a record of this engine's loop devices and mounts ({ex.Message}): if it is killed, they stay");
        }
        return _file;
    }

    /// <summary>The owners folder: beside MountRoot (/run/restoretools/owners for /run/restoretools/mnt).</summary>
    public static string DirFor(EngineOptions options)
    {
        string mountRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.MountRoot));
        return Path.Combine(Path.GetDirectoryName(mountRoot) ?? "/", "owners");
    }

    public void LoopAttached(string device, string marker) => Write("loop", marker, [device, marker]);

    public void LoopDetached(string marker) => Write("-loop", marker, [marker]);

    public void Mounted(string mountPoint, string device, string? top) => Write("mount", mountPoint, [mountPoint, device, top ?? ""]);

    public void Unmounted(string mountPoint) => Write("-mount", mountPoint, [mountPoint]);

    private void Write(string verb, string key, string[] fields)
    {
        lock (_gate)
        {
            if (verb[0] == '-') _open.Remove(verb[1..] + "\t" + key);
            else _open.Add(verb + "\t" + key);
            try { RecordFile()?.AppendLine(verb + "\t" + string.Join('\t', fields.Select(Uri.EscapeDataString))); }
            catch (IOException ex) { _options.Warning?.Invoke($"recording '{key}' failed: {ex.Message}"); }
        }
    }

    /// <summary>Everything undone: the file goes. Something left (a busy unmount): it stays for a later clean-up.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_file is null) return;
            if (_open.Count == 0) _file.DeleteAndClose();
            else _file.Dispose();
        }
    }

    public sealed record Loop(string Device, string Marker);
    public sealed record Mount(string MountPoint, string Device, string? Top);

    /// <summary>What a record still lists: its "+" lines less its "-" lines, a torn last line ignored.</summary>
    public static (List<Loop> Loops, List<Mount> Mounts) Parse(string text)
    {
        var loops = new Dictionary<string, Loop>(StringComparer.Ordinal);
        var mounts = new Dictionary<string, Mount>(StringComparer.Ordinal);
        var lines = text.Split('\n');
        // Only whole lines count: the last element is "" or a line torn by a crash.
        foreach (var line in lines.Take(lines.Length - 1))
        {
            var f = line.Split('\t').Select(Uri.UnescapeDataString).ToArray();
            switch (f[0])
            {
                case "loop" when f.Length == 3: loops[f[2]] = new Loop(f[1], f[2]); break;
                case "-loop" when f.Length == 2: loops.Remove(f[1]); break;
                case "mount" when f.Length == 4: mounts[f[1]] = new Mount(f[1], f[2], f[3].Length == 0 ? null : f[3]); break;
                case "-mount" when f.Length == 2: mounts.Remove(f[1]); break;
            }
        }
        return (loops.Values.ToList(), mounts.Values.ToList());
    }
}
