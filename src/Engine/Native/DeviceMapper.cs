using System.Buffers.Binary;
using System.Text;
using Tmds.Linux;

namespace RestoreTools.Engine.Native;

/// <summary>One line of a device-mapper table: sectors [Start, Start+Length) mapped by a target with its parameters.</summary>
public sealed record DmTarget(long Start, long Length, string Type, string Parameters);

/// <summary>
/// Device-mapper through its ioctls on /dev/mapper/control (linux/dm-ioctl.h), without libdevmapper:
/// create a device, load a read-only table, resume it, and remove it. Target modules (dm-thin-pool,
/// dm-snapshot, dm-mirror, dm-raid) are loaded by the kernel itself at table load
/// (request_module("dm-TYPE")), and dm-mod when the control node is first opened
/// (request_module("char-major-10-236")).
/// </summary>
public static unsafe class DeviceMapper
{
    // struct dm_ioctl is 312 bytes; struct dm_target_spec 40, its parameters follow it NUL-terminated.
    private const int HeaderSize = 312, SpecSize = 40, NameLength = 128, UuidLength = 129;
    private const uint DM_DEV_CREATE = 3, DM_DEV_REMOVE = 4, DM_DEV_SUSPEND = 6, DM_TABLE_LOAD = 9, DM_LIST_DEVICES = 2;
    private const uint DM_READONLY_FLAG = 1, DM_BUFFER_FULL_FLAG = 1 << 8;
    private const uint MiscMajor = 10, ControlMinor = 236;

    // _IOWR(0xfd, cmd, struct dm_ioctl)
    private static nuint Request(uint cmd) => (nuint)((3u << 30) | ((uint)HeaderSize << 16) | (0xfdu << 8) | cmd);

    /// <summary>
    /// Whether this kernel has device-mapper: loaded (/proc/misc names it) or loadable (a module tree
    /// for the running kernel that lists dm-mod). The host this was written on has neither.
    /// </summary>
    public static bool IsAvailable()
    {
        try
        {
            if (File.ReadLines("/proc/misc").Any(l => l.EndsWith(" device-mapper", StringComparison.Ordinal))) return true;
            string release = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
            string dep = $"/lib/modules/{release}/modules.dep";
            return File.Exists(dep) && File.ReadLines(dep).Any(l => l.Contains("/dm-mod.ko", StringComparison.Ordinal));
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    /// <summary>
    /// Creates device NAME with the table given (read-only unless said otherwise), makes it live,
    /// and returns its device number. If any step fails, what was made is removed again.
    /// </summary>
    public static (uint Major, uint Minor) Create(string devRoot, string name, string uuid, IReadOnlyList<DmTarget> table, bool readOnly = true)
    {
        if (table.Count == 0) throw new ArgumentException("a device-mapper table needs at least one target", nameof(table));
        int fd = OpenControl(devRoot);
        try
        {
            var created = Call(fd, DM_DEV_CREATE, name, uuid, 0, null, 0, "DM_DEV_CREATE");
            try
            {
                Call(fd, DM_TABLE_LOAD, name, null, readOnly ? DM_READONLY_FLAG : 0, Specs(table), table.Count, "DM_TABLE_LOAD");
                Call(fd, DM_DEV_SUSPEND, name, null, 0, null, 0, "DM_DEV_SUSPEND (resume)");
            }
            catch
            {
                Call(fd, DM_DEV_REMOVE, name, null, 0, null, 0, "DM_DEV_REMOVE", throwOnError: false);
                throw;
            }
            ulong dev = BinaryPrimitives.ReadUInt64LittleEndian(created.AsSpan(40));
            // The kernel's huge_encode_dev: minor's low byte, then major, then the minor's high bits.
            return ((uint)((dev >> 8) & 0xfff), (uint)((dev & 0xff) | ((dev >> 12) & 0xfff00)));
        }
        finally { Sys.Close(fd); }
    }

    /// <summary>Removes device NAME; false when it is still open (mounted, or under another mapping).</summary>
    public static bool Remove(string devRoot, string name)
    {
        int fd = OpenControl(devRoot);
        try
        {
            for (int attempt = 0; ; attempt++)
            {
                var (ok, errno) = TryCall(fd, DM_DEV_REMOVE, name, null, 0, null, 0);
                if (ok || errno == Sys.ENXIO) return true;
                // An unmount's last reference may drop a moment after umount(2) returns.
                if (errno == Sys.EBUSY && attempt < 20) { Thread.Sleep(10); continue; }
                if (errno == Sys.EBUSY) return false;
                throw new NativeException("ioctl(DM_DEV_REMOVE)", errno, name);
            }
        }
        finally { Sys.Close(fd); }
    }

    /// <summary>The names of the device-mapper devices that exist now.</summary>
    public static IReadOnlyList<string> List(string devRoot)
    {
        int fd = OpenControl(devRoot);
        try
        {
            for (int size = 16 * 1024; size <= 4 * 1024 * 1024; size *= 4)
            {
                var buffer = Buffer(size, null, null, 0, 0);
                fixed (byte* p = buffer)
                    if (Libc.ioctl(fd, Request(DM_LIST_DEVICES), p) < 0) throw new NativeException("ioctl(DM_LIST_DEVICES)", Sys.Errno);
                if ((BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(28)) & DM_BUFFER_FULL_FLAG) != 0) continue;
                // struct dm_name_list { u64 dev; u32 next; char name[]; }, next relative to this entry, 0 at the last.
                var names = new List<string>();
                int at = (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(16));
                int end = (int)BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(12));
                while (at + 12 < end && BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(at)) != 0)
                {
                    var nameBytes = buffer.AsSpan(at + 12);
                    int nul = nameBytes.IndexOf((byte)0);
                    names.Add(Encoding.UTF8.GetString(nul < 0 ? nameBytes : nameBytes[..nul]));
                    uint next = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(at + 8));
                    if (next == 0) break;
                    at += (int)next;
                }
                return names;
            }
            throw new IOException("the device-mapper device list does not fit in 4 MiB");
        }
        finally { Sys.Close(fd); }
    }

    private static int OpenControl(string devRoot)
    {
        string control = Path.Combine(devRoot, "mapper", "control");
        // devtmpfs makes this node only once dm-mod is loaded; opening our own node loads it.
        if (!File.Exists(control)) DeviceNodes.CreateCharNode(control, MiscMajor, ControlMinor);
        try { return Sys.Open(control, LibC.O_RDWR); }
        catch (NativeException ex) when (ex.Errno is Sys.ENODEV or Sys.ENXIO)
        {
            throw new NativeException("open (device-mapper is not in this kernel)", ex.Errno, control);
        }
    }

    private static byte[] Specs(IReadOnlyList<DmTarget> table)
    {
        using var ms = new MemoryStream();
        foreach (var t in table)
        {
            var parameters = Encoding.UTF8.GetBytes(t.Parameters);
            int length = (SpecSize + parameters.Length + 1 + 7) & ~7; // each spec 8-byte aligned
            var spec = new byte[length];
            BinaryPrimitives.WriteUInt64LittleEndian(spec, (ulong)t.Start);
            BinaryPrimitives.WriteUInt64LittleEndian(spec.AsSpan(8), (ulong)t.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(spec.AsSpan(20), (uint)length); // next: offset to the next spec
            var type = Encoding.ASCII.GetBytes(t.Type);
            if (type.Length >= 16) throw new ArgumentException($"device-mapper target type '{t.Type}' is too long");
            type.CopyTo(spec, 24);
            parameters.CopyTo(spec, SpecSize);
            ms.Write(spec);
        }
        return ms.ToArray();
    }

    private static byte[] Buffer(int size, string? name, string? uuid, uint flags, int targets, byte[]? data = null)
    {
        var b = new byte[Math.Max(size, HeaderSize + (data?.Length ?? 0))];
        // Interface version 4.0.0: every kernel since 2.6 speaks it; the kernel answers with its own.
        BinaryPrimitives.WriteUInt32LittleEndian(b, 4);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(12), (uint)b.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16), HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(20), (uint)targets);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(28), flags);
        if (name is not null) Put(b, 48, NameLength, name);
        if (uuid is not null) Put(b, 176, UuidLength, uuid);
        data?.CopyTo(b, HeaderSize);
        return b;
    }

    private static void Put(byte[] b, int at, int room, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        if (bytes.Length >= room || bytes.Contains((byte)0) || bytes.Contains((byte)'/'))
            throw new ArgumentException($"'{s}' cannot name a device-mapper device");
        bytes.CopyTo(b, at);
    }

    private static (bool Ok, int Errno) TryCall(int fd, uint cmd, string name, string? uuid, uint flags, byte[]? data, int targets)
    {
        var b = Buffer(HeaderSize + 8 + (data?.Length ?? 0), name, uuid, flags, targets, data);
        fixed (byte* p = b)
            return Libc.ioctl(fd, Request(cmd), p) == 0 ? (true, 0) : (false, Sys.Errno);
    }

    private static byte[] Call(int fd, uint cmd, string name, string? uuid, uint flags, byte[]? data, int targets, string what, bool throwOnError = true)
    {
        var b = Buffer(HeaderSize + 8 + (data?.Length ?? 0), name, uuid, flags, targets, data);
        fixed (byte* p = b)
            if (Libc.ioctl(fd, Request(cmd), p) < 0 && throwOnError)
                throw new NativeException($"ioctl({what})", Sys.Errno, name);
        return b;
    }
}
