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
        try
        {
            foreach (var line in File.ReadLines(Path.Combine(procRoot, "self/mountinfo")))
            {
                // Field 5 is the mount point, with spaces and such escaped as octal.
                var fields = line.Split(' ');
                if (fields.Length > 4 && Unescape(fields[4]) == full) return true;
            }
        }
        catch (IOException) { }
        return false;
    }

    private static string Unescape(string s) =>
        s.Contains('\\') ? System.Text.RegularExpressions.Regex.Replace(s, @"\\([0-7]{3})",
            m => ((char)Convert.ToInt32(m.Groups[1].Value, 8)).ToString()) : s;
}
