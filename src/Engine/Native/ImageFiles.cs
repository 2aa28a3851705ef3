using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace RestoreTools.Engine.Native;

/// <summary>
/// Opens an image for a loop device without ever blocking or causing an open's side effects:
/// everything is first held as an O_PATH descriptor (which opens nothing: no FIFO wait, no
/// device driver open, no controlling tty) and looked at with fstat; only a regular file or a
/// block device is then opened for reading, through /proc/self/fd, which reopens that very inode.
/// </summary>
public static unsafe partial class ImageFiles
{
    private const int O_RDONLY = 0, O_NOCTTY = 0x100, O_NONBLOCK = 0x800, O_DIRECTORY = 0x10000,
        O_NOFOLLOW = 0x20000, O_CLOEXEC = 0x80000, O_PATH = 0x200000, AT_FDCWD = -100;

    /// <summary>What fstat says of a held descriptor.</summary>
    public readonly record struct Identity(Stat.Kind Kind, ulong Device, ulong Inode);

    /// <summary>An O_PATH handle on path, following symlinks (the caller named it).</summary>
    public static SafeFileHandle OpenPath(string path) => OpenAt(AT_FDCWD, path, O_PATH, path);

    /// <summary>An O_PATH handle on the folder path (symlinks followed: the administrator named it).</summary>
    public static SafeFileHandle OpenDirectory(string path) => OpenAt(AT_FDCWD, path, O_PATH | O_DIRECTORY, path);

    /// <summary>An O_PATH handle on one name inside dir, never following it: a symlink gives a handle on the link itself.</summary>
    public static SafeFileHandle OpenPathNoFollow(SafeFileHandle dir, string name, string display)
    {
        bool added = false;
        dir.DangerousAddRef(ref added);
        try { return OpenAt((int)dir.DangerousGetHandle(), name, O_PATH | O_NOFOLLOW, display); }
        finally { if (added) dir.DangerousRelease(); }
    }

    public static Identity Identify(SafeFileHandle handle, string display)
    {
        Tmds.Linux.stat st;
        bool added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            if (Libc.fstat((int)handle.DangerousGetHandle(), &st) != 0) throw new NativeException("fstat", Sys.Errno, display);
        }
        finally { if (added) handle.DangerousRelease(); }
        return new Identity(Stat.From(in st).Kind, (ulong)st.st_dev, (ulong)st.st_ino);
    }

    /// <summary>
    /// Opens the inode a path handle holds for reading, O_NONBLOCK so that even a FIFO swapped in
    /// cannot make it wait; the caller has checked the kind and checks it again on the result.
    /// </summary>
    public static SafeFileHandle ReopenForReading(SafeFileHandle pathHandle, string display)
    {
        bool added = false;
        pathHandle.DangerousAddRef(ref added);
        try
        {
            string magic = $"/proc/self/fd/{(int)pathHandle.DangerousGetHandle()}";
            return OpenAt(AT_FDCWD, magic, O_RDONLY | O_NONBLOCK | O_NOCTTY, display);
        }
        finally { if (added) pathHandle.DangerousRelease(); }
    }

    private static SafeFileHandle OpenAt(int dirfd, string path, int flags, string display)
    {
        fixed (byte* p = Sys.Z(path))
        {
            int fd;
            do { fd = Libc.openat(dirfd, p, flags | O_CLOEXEC, 0); } while (fd < 0 && Sys.Errno == 4 /* EINTR */);
            if (fd < 0) throw new NativeException("open", Sys.Errno, display);
            return new SafeFileHandle(fd, ownsHandle: true);
        }
    }
}
