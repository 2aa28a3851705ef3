using System.Runtime.InteropServices;
using System.Text;

namespace RestoreTools.Engine.Native;

/// <summary>
/// A small append-only file held under an exclusive flock for as long as it is open. The kernel
/// drops the lock when the holder's process ends however it ends (SIGKILL too), so "the lock can
/// be taken" means "its writer is gone", with no pid to reuse or compare.
/// </summary>
public sealed unsafe partial class LockedFile : IDisposable
{
    private const int O_RDWR = 2, O_CREAT = 0x40, O_EXCL = 0x80, O_APPEND = 0x400, O_NOFOLLOW = 0x20000, O_CLOEXEC = 0x80000;
    private const int LOCK_EX = 2, LOCK_NB = 4, EWOULDBLOCK = 11;

    [LibraryImport("libc", SetLastError = true)] private static partial int flock(int fd, int operation);
    [LibraryImport("libc", SetLastError = true)] private static partial nint write(int fd, byte* buf, nuint count);
    [LibraryImport("libc", SetLastError = true)] private static partial int unlink(byte* path);

    private int _fd;
    private readonly Lock _gate = new();

    private LockedFile(int fd, string path)
    {
        _fd = fd;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Creates a new file (mode 0600) and locks it; the name must not exist yet.</summary>
    public static LockedFile Create(string path)
    {
        int fd = OpenRaw(path, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW);
        if (flock(fd, LOCK_EX | LOCK_NB) != 0)
        {
            int e = Sys.Errno;
            Sys.Close(fd);
            throw new NativeException("flock", e, path);
        }
        return new LockedFile(fd, path);
    }

    /// <summary>Opens and locks an existing file; null when another live process holds it, or it is gone.</summary>
    public static LockedFile? TryLockExisting(string path)
    {
        int fd;
        try { fd = OpenRaw(path, O_RDWR | O_APPEND | O_NOFOLLOW); }
        catch (NativeException ex) when (ex.Errno == Sys.ENOENT) { return null; }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0)
        {
            int e = Sys.Errno;
            Sys.Close(fd);
            if (e == EWOULDBLOCK) return null;
            throw new NativeException("flock", e, path);
        }
        // Locked after another cleaner had already finished and removed it: nothing left to do.
        Tmds.Linux.stat st;
        if (Libc.fstat(fd, &st) != 0 || st.st_nlink == 0)
        {
            Sys.Close(fd);
            return null;
        }
        return new LockedFile(fd, path);
    }

    /// <summary>Appends one line in one write(2), so a crash leaves at worst a torn last line.</summary>
    public void AppendLine(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_fd < 0, this);
            fixed (byte* b = bytes)
            {
                nint n = write(_fd, b, (nuint)bytes.Length);
                if (n != bytes.Length) throw new NativeException("write", n < 0 ? Sys.Errno : Sys.ENOSPC, Path);
            }
        }
    }

    /// <summary>The whole file as text.</summary>
    public string ReadAll()
    {
        var buffer = new MemoryStream();
        var chunk = new byte[16384];
        lock (_gate)
        {
            fixed (byte* b = chunk)
            {
                // O_APPEND moves writes to the end, not reads: read from the start with lseek-free pread.
                long offset = 0;
                while (true)
                {
                    nint n = Libc.pread(_fd, b, (nuint)chunk.Length, offset);
                    if (n < 0) throw new NativeException("read", Sys.Errno, Path);
                    if (n == 0) break;
                    buffer.Write(chunk, 0, (int)n);
                    offset += n;
                }
            }
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Removes the name while still holding the lock, then closes.</summary>
    public void DeleteAndClose()
    {
        lock (_gate)
        {
            if (_fd < 0) return;
            fixed (byte* p = Sys.Z(Path)) unlink(p);
            Sys.Close(_fd);
            _fd = -1;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_fd < 0) return;
            Sys.Close(_fd);
            _fd = -1;
        }
    }

    private static int OpenRaw(string path, int flags)
    {
        fixed (byte* p = Sys.Z(path))
        {
            int fd;
            do { fd = Libc.open(p, flags | O_CLOEXEC, 0x180 /* 0600 */); } while (fd < 0 && Sys.Errno == 4);
            if (fd < 0) throw new NativeException("open", Sys.Errno, path);
            return fd;
        }
    }
}
