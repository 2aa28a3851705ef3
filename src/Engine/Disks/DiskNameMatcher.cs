namespace RestoreTools.Engine.Disks;

/// <summary>
/// How a requested disk name finds a disk: exactly; "X.img.fidx" (a Proxmox archive name) also
/// finds disk "X"; and a name over 20 characters also finds its first 20, since a virtio serial
/// is cut at 20 bytes by qemu.
/// </summary>
public static class DiskNameMatcher
{
    public const int VirtioSerialLength = 20;
    private const string ArchiveSuffix = ".img.fidx";

    /// <summary>
    /// The name a serial gives its disk: as Proxmox names it, without a ".img.fidx" archive suffix
    /// (serial drive-scsi0.img.fidx is disk drive-scsi0; the full name still finds it).
    /// </summary>
    public static string NameOf(string serial) =>
        serial.Length > ArchiveSuffix.Length && serial.EndsWith(ArchiveSuffix, StringComparison.Ordinal) ? serial[..^ArchiveSuffix.Length] : serial;

    /// <summary>The serial a virtio disk of that name gets: qemu keeps its first 20 bytes.</summary>
    public static string SerialOf(string name)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(name);
        if (bytes.Length <= VirtioSerialLength) return name;
        int n = VirtioSerialLength;
        while (n > 0 && (bytes[n] & 0xC0) == 0x80) n--; // never half a character
        return System.Text.Encoding.UTF8.GetString(bytes, 0, n);
    }

    public static IEnumerable<string> Candidates(string requested)
    {
        yield return requested;
        string? stripped = requested.EndsWith(ArchiveSuffix, StringComparison.Ordinal)
            ? requested[..^ArchiveSuffix.Length] : null;
        if (stripped is { Length: > 0 }) yield return stripped;
        if (requested.Length > VirtioSerialLength) yield return requested[..VirtioSerialLength];
        if (stripped is { Length: > VirtioSerialLength }) yield return stripped[..VirtioSerialLength];
    }

    /// <summary>The first disk that a candidate names, exact matches first.</summary>
    public static T? Find<T>(IEnumerable<T> disks, Func<T, string> name, string requested) where T : class
    {
        var list = disks as IReadOnlyCollection<T> ?? disks.ToList();
        foreach (var candidate in Candidates(requested))
            foreach (var disk in list)
                if (string.Equals(name(disk), candidate, StringComparison.Ordinal))
                    return disk;
        return null;
    }
}
