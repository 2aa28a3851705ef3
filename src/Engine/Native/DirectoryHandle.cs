using Tmds.Linux;

namespace RestoreTools.Engine.Native;

/// <summary>An open file or folder of a copy: the metadata calls that both take on their own descriptor.</summary>
public abstract unsafe class OwnedDescriptor : IDisposable
{
    private protected int Fd;

    /// <summary>What it is, for messages.</summary>
    public string Display { get; }

    private protected OwnedDescriptor(int fd, string display) { Fd = fd; Display = display; }

    public void SetOwner(long uid, long gid)
    {
        if (Libc.fchown(Fd, (uint)uid, (uint)gid) != 0) throw new NativeException("chown", Sys.Errno, Display);
    }

    public void SetMode(int mode)
    {
        if (Libc.fchmod(Fd, (uint)mode) != 0) throw new NativeException("chmod", Sys.Errno, Display);
    }

    public void SetTimes(DateTimeOffset mtime) => Times.Set(Fd, null, mtime, 0, Display);

    public void SetXattr(string name, byte[] value) => Xattrs.Set(Fd, name, value, Display);

    /// <summary>Bytes an unprivileged writer may still use on this filesystem (f_bavail x f_frsize).</summary>
    public long FreeBytes()
    {
        byte* buf = stackalloc byte[128];
        if (Libc.fstatvfs(Fd, buf) != 0) throw new NativeException("statvfs", Sys.Errno, Display);
        return FreeSpace.FromStatvfs(buf);
    }

    public void Dispose()
    {
        if (Fd >= 0) { Sys.Close(Fd); Fd = -1; }
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// An open folder on the restore side, and every change made inside it relative to it (the *at
/// calls). The safe writer holds one per folder of a copy: a name is created, opened or removed
/// only as a direct child, with O_NOFOLLOW, so a symlink (one the copy made from a hostile archive,
/// or one already in the destination) is an entry like any other and never a way out.
/// </summary>
public sealed unsafe class DirectoryHandle : OwnedDescriptor
{
    private DirectoryHandle(int fd, string display) : base(fd, display) { }

    /// <summary>Opens a folder the user named (links in the user's own path are followed, as cp does).</summary>
    public static DirectoryHandle Open(string path)
    {
        int fd = Sys.Open(path, LibC.O_RDONLY | Sys.O_DIRECTORY);
        return new DirectoryHandle(fd, path);
    }

    private string Child(string name) => Display.EndsWith('/') ? Display + name : Display + "/" + name;

    /// <summary>The child folder, never through a link: null when it does not exist; ENOTDIR/ELOOP when it is not a folder.</summary>
    public DirectoryHandle? OpenChild(string name)
    {
        int fd;
        fixed (byte* p = Sys.Z(name))
            do { fd = Libc.openat(Fd, p, LibC.O_RDONLY | Sys.O_DIRECTORY | Sys.O_NOFOLLOW | LibC.O_CLOEXEC, 0); } while (fd < 0 && Sys.Errno == Sys.EINTR);
        if (fd >= 0) return new DirectoryHandle(fd, Child(name));
        int e = Sys.Errno;
        if (e == Sys.ENOENT) return null;
        throw new NativeException("open", e, Child(name));
    }

    /// <summary>lstat of a child: a link is reported as a link.</summary>
    public Stat.Info StatChild(string name)
    {
        stat st;
        fixed (byte* p = Sys.Z(name))
        {
            if (Libc.fstatat(Fd, p, &st, Sys.AT_SYMLINK_NOFOLLOW) != 0)
            {
                int e = Sys.Errno;
                if (e == Sys.ENOENT) return default;
                throw new NativeException("lstat", e, Child(name));
            }
        }
        return Stat.From(in st);
    }

    public void MakeDirectory(string name, int mode)
    {
        fixed (byte* p = Sys.Z(name))
            if (Libc.mkdirat(Fd, p, (uint)mode) != 0) throw new NativeException("mkdir", Sys.Errno, Child(name));
    }

    /// <summary>A new file, created exclusively: an existing name (a link above all) is never opened.</summary>
    public WritableFile CreateFile(string name)
    {
        int fd;
        fixed (byte* p = Sys.Z(name))
            do { fd = Libc.openat(Fd, p, Sys.O_WRONLY | Sys.O_CREAT | Sys.O_EXCL | Sys.O_NOFOLLOW | LibC.O_CLOEXEC, 0x180 /* 0600 until done */); }
            while (fd < 0 && Sys.Errno == Sys.EINTR);
        if (fd < 0) throw new NativeException("create", Sys.Errno, Child(name));
        return new WritableFile(fd, Child(name));
    }

    public void CreateSymlink(string name, string target)
    {
        fixed (byte* t = Sys.Z(target))
        fixed (byte* p = Sys.Z(name))
            if (Libc.symlinkat(t, Fd, p) != 0) throw new NativeException("symlink", Sys.Errno, Child(name));
    }

    /// <summary>A hard link name -> from/fromName; linkat without AT_SYMLINK_FOLLOW links a link itself, never its target.</summary>
    public void Link(string name, DirectoryHandle from, string fromName)
    {
        fixed (byte* o = Sys.Z(fromName))
        fixed (byte* p = Sys.Z(name))
            if (Libc.linkat(from.Fd, o, Fd, p, 0) != 0) throw new NativeException("link", Sys.Errno, Child(name));
    }

    /// <summary>Removes a non-folder child (a link is removed itself, so nothing lands where it pointed).</summary>
    public void Remove(string name)
    {
        fixed (byte* p = Sys.Z(name))
            if (Libc.unlinkat(Fd, p, 0) != 0) throw new NativeException("unlink", Sys.Errno, Child(name));
    }

    /// <summary>Owner and mtime of a child link itself (AT_SYMLINK_NOFOLLOW).</summary>
    public void SetLinkOwner(string name, long uid, long gid)
    {
        fixed (byte* p = Sys.Z(name))
            if (Libc.fchownat(Fd, p, (uint)uid, (uint)gid, Sys.AT_SYMLINK_NOFOLLOW) != 0) throw new NativeException("lchown", Sys.Errno, Child(name));
    }

    public void SetLinkXattr(string child, string name, byte[] value) => Xattrs.SetOnLink(Fd, child, name, value, Child(child));

    public void SetLinkTimes(string name, DateTimeOffset mtime) => Times.Set(Fd, name, mtime, Sys.AT_SYMLINK_NOFOLLOW, Child(name));

}

/// <summary>A file being written by a copy: data at offsets (holes left as holes), then size, owner, mode, times.</summary>
public sealed unsafe class WritableFile : OwnedDescriptor
{
    internal WritableFile(int fd, string display) : base(fd, display) { }

    public void WriteAt(ReadOnlySpan<byte> data, long offset)
    {
        fixed (byte* b = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                nint n = Libc.pwrite(Fd, b + done, (nuint)(data.Length - done), offset + done);
                if (n < 0)
                {
                    if (Sys.Errno == Sys.EINTR) continue;
                    throw new NativeException("write", Sys.Errno, Display);
                }
                done += (int)n;
            }
        }
    }

    /// <summary>Sets the size: a trailing hole stays a hole.</summary>
    public void SetLength(long length)
    {
        if (Libc.ftruncate(Fd, length) != 0) throw new NativeException("truncate", Sys.Errno, Display);
    }
}

internal static unsafe class Times
{
    private const long UTIME_OMIT = (1L << 30) - 2;

    /// <summary>mtime set, atime left alone (UTIME_OMIT); on fd itself when name is null.</summary>
    public static void Set(int fd, string? name, DateTimeOffset mtime, int flags, string display)
    {
        var ts = stackalloc timespec[2];
        ts[0].tv_sec = (time_t)0;
        ts[0].tv_nsec = (long_t)UTIME_OMIT;
        long ticks = mtime.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        long sec = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long rem);
        if (rem < 0) { sec--; rem += TimeSpan.TicksPerSecond; }
        ts[1].tv_sec = (time_t)sec;
        ts[1].tv_nsec = (long_t)(rem * 100);
        int rc;
        if (name is null) rc = Libc.futimens(fd, ts);
        else fixed (byte* p = Sys.Z(name)) rc = Libc.utimensat(fd, p, ts, flags);
        if (rc != 0) throw new NativeException("utimensat", Sys.Errno, display);
    }
}

/// <summary>Free space from statvfs, for the clear "needs N, has M" errors before a big write.</summary>
public static unsafe class FreeSpace
{
    // struct statvfs (x86_64 and arm64): f_bsize, f_frsize, f_blocks, f_bfree, f_bavail, ... each 8 bytes.
    internal static long FromStatvfs(byte* buf) => (long)(*(ulong*)(buf + 32) * *(ulong*)(buf + 8));

    /// <summary>Free bytes on the filesystem that holds path, or null when it cannot be told.</summary>
    public static long? Of(string path)
    {
        byte* buf = stackalloc byte[128];
        fixed (byte* p = Sys.Z(path))
            return Libc.statvfs(p, buf) == 0 ? FromStatvfs(buf) : null;
    }
}
