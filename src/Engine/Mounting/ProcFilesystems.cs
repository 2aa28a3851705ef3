namespace RestoreTools.Engine.Mounting;

/// <summary>The kernel's filesystem drivers, from /proc/filesystems.</summary>
internal static class ProcFilesystems
{
    /// <summary>Block-device filesystems, skipping "nodev" ones and zfs (which mounts pools, not devices).</summary>
    public static IReadOnlyList<string> BlockFilesystems(string procRoot = "/proc")
    {
        var list = new List<string>();
        try
        {
            foreach (var line in File.ReadLines(Path.Combine(procRoot, "filesystems")))
            {
                if (line.StartsWith("nodev", StringComparison.Ordinal)) continue;
                var name = line.Trim();
                if (name.Length > 0 && name != "zfs") list.Add(name);
            }
        }
        catch (IOException) { }
        return list;
    }

    public static bool IsMountPoint(string path, string procRoot = "/proc")
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        return Mounts(procRoot).Any(m => m.MountPoint == full);
    }

    /// <summary>This process's mounts from mountinfo: the device (field 3, "major:minor") and the mount point (field 5).</summary>
    public static IReadOnlyList<(string Device, string MountPoint)> Mounts(string procRoot = "/proc")
    {
        var list = new List<(string, string)>();
        try
        {
            foreach (var line in File.ReadLines(Path.Combine(procRoot, "self/mountinfo")))
            {
                // The mount point has spaces and such escaped as octal.
                var fields = line.Split(' ');
                if (fields.Length > 4) list.Add((fields[2], Unescape(fields[4])));
            }
        }
        catch (IOException) { }
        return list;
    }

    private static string Unescape(string s) =>
        s.Contains('\\') ? System.Text.RegularExpressions.Regex.Replace(s, @"\\([0-7]{3})",
            m => ((char)Convert.ToInt32(m.Groups[1].Value, 8)).ToString()) : s;
}
