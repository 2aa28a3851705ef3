namespace RestoreTools.Engine.Disks;

/// <summary>Small readers for sysfs attribute files (one value per file, newline-terminated).</summary>
internal static class Sysfs
{
    public static string? ReadString(string path)
    {
        try { return File.ReadAllText(path).Trim(); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    public static long? ReadLong(string path) =>
        long.TryParse(ReadString(path), out long v) ? v : null;

    /// <summary>The dev attribute "major:minor".</summary>
    public static (uint Major, uint Minor)? ReadDev(string dir)
    {
        var s = ReadString(Path.Combine(dir, "dev"));
        if (s is null) return null;
        var parts = s.Split(':');
        return parts.Length == 2 && uint.TryParse(parts[0], out uint ma) && uint.TryParse(parts[1], out uint mi)
            ? (ma, mi) : null;
    }

    /// <summary>Partition subdirectories of a disk's sysfs folder, by their partition number.</summary>
    public static IEnumerable<(int Number, string Dir)> Partitions(string diskDir)
    {
        if (!Directory.Exists(diskDir)) yield break;
        foreach (var dir in Directory.EnumerateDirectories(diskDir))
        {
            var n = ReadLong(Path.Combine(dir, "partition"));
            if (n is not null) yield return ((int)n.Value, dir);
        }
    }
}
