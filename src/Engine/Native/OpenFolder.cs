using Tmds.Linux;

namespace RestoreTools.Engine.Native;

/// <summary>
/// A folder held open while a walk is in it: its names read with getdents64, and each entry's lstat
/// and open made relative to it (fstatat, openat), as GNU tar does. A full path costs the kernel a
/// lookup of every component on every call (a third of an agent's tar of 20k files went to path
/// walks); relative to the folder it is one name, and no component above it can change under the walk.
/// Opened through PathAt with O_NOFOLLOW, so a symlink given as the folder is never read through.
/// Safe to use from another thread while the walk goes on: a call after Dispose returns nothing
/// rather than use a descriptor number that may belong to something else by then.
/// </summary>
public sealed unsafe class OpenFolder : IDisposable
{
    private readonly Lock _lock = new();
    private int _fd;

    /// <summary>The folder's path, for messages and for what the caller does by path.</summary>
    public string Path { get; }

    private OpenFolder(int fd, string path)
    {
        _fd = fd;
        Path = path;
    }

    public static OpenFolder Open(string path)
    {
        int fd = PathAt.Run(path, (dir, name) =>
        {
            int f;
            do { f = Libc.openat(dir, name, LibC.O_RDONLY | Sys.O_DIRECTORY | Sys.O_NOFOLLOW | LibC.O_CLOEXEC, 0); } while (f < 0 && Sys.Errno == Sys.EINTR);
            return f < 0 ? -Sys.Errno : f;
        });
        if (fd < 0) throw new NativeException("opendir", -fd, path);
        return new OpenFolder(fd, path);
    }

    /// <summary>The names, without "." and "..", read in batches as the caller iterates; once per folder.</summary>
    public IEnumerable<DirectoryEntries.Name> Names()
    {
        var buf = new byte[32 * 1024];
        while (true)
        {
            int n = Fill(buf);
            if (n == 0) yield break;
            int off = 0;
            while (off < n)
            {
                // struct linux_dirent64: d_ino u64, d_off s64, d_reclen u16, d_type u8, d_name[] NUL-ended.
                int reclen = BitConverter.ToUInt16(buf, off + 16);
                if (reclen == 0) break;
                int nameStart = off + 19;
                int end = Array.IndexOf(buf, (byte)0, nameStart, off + reclen - nameStart);
                if (end < 0) end = off + reclen;
                var bytes = buf.AsSpan(nameStart, end - nameStart).ToArray();
                off += reclen;
                if (bytes is [(byte)'.'] or [(byte)'.', (byte)'.']) continue;
                yield return new DirectoryEntries.Name(bytes, Paths.NameCodec.Decode(bytes));
            }
        }
    }

    private int Fill(byte[] buf)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_fd < 0, this);
            fixed (byte* b = buf)
            {
                nint n;
                do { n = Libc.getdents64(_fd, b, (nuint)buf.Length); } while (n < 0 && Sys.Errno == Sys.EINTR);
                if (n < 0) throw new NativeException("getdents64", Sys.Errno, Path);
                return (int)n;
            }
        }
    }

    /// <summary>lstat of one of its entries (a name from <see cref="Names"/>); a missing one is Kind.Missing.</summary>
    public Stat.Info Lstat(byte[] name)
    {
        int rc;
        stat s;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_fd < 0, this);
            fixed (byte* p = Terminated(name)) rc = Libc.fstatat(_fd, p, &s, Sys.AT_SYMLINK_NOFOLLOW) == 0 ? 0 : Sys.Errno;
        }
        if (rc == Sys.ENOENT || rc == Sys.ENOTDIR) return default;
        if (rc != 0) throw new NativeException("lstat", rc, Path + "/" + Paths.NameCodec.Decode(name));
        return Stat.From(in s);
    }

    /// <summary>
    /// Opens one of its files read-only and never through a symlink (O_NOFOLLOW), as Files.OpenRead does;
    /// null once the folder is closed (the caller then opens by path).
    /// </summary>
    public Stream? TryOpenRead(byte[] name, long length)
    {
        int f;
        lock (_lock)
        {
            if (_fd < 0) return null;
            fixed (byte* p = Terminated(name))
                do { f = Libc.openat(_fd, p, LibC.O_RDONLY | Sys.O_NOFOLLOW | LibC.O_CLOEXEC, 0); } while (f < 0 && Sys.Errno == Sys.EINTR);
        }
        string path = Path + "/" + Paths.NameCodec.Decode(name);
        if (f < 0) throw new NativeException("open", Sys.Errno, path);
        return new ReadOnlyFileStream(f, length, path);
    }

    private static byte[] Terminated(byte[] name) => [.. name, 0];

    public void Dispose()
    {
        lock (_lock)
        {
            if (_fd >= 0) Sys.Close(_fd);
            _fd = -1;
        }
    }
}
