using System.Runtime.InteropServices;
using Tmds.Linux;

namespace RestoreTools.Engine.Native;

/// <summary>A failed system call with its errno, named as the C library names it.</summary>
public sealed class NativeException(string call, int errno, string? target = null)
    : IOException($"{call}{(target is null ? "" : $" '{target}'")} failed: {Describe(errno)}", errno)
{
    public int Errno { get; } = errno;
    public string Call { get; } = call;

    public static string Describe(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
}

internal static unsafe class Sys
{
    public const int ENOENT = 2, EIO = 5, ENXIO = 6, EBADF = 9, EBUSY = 16, EEXIST = 17, ENODEV = 19,
        ENOTDIR = 20, EINVAL = 22, ENOTTY = 25, ENOSPC = 28, ELOOP = 40, ENOSYS = 38, ENOTBLK = 15, EXDEV = 18,
        ENAMETOOLONG = 36, EINTR = 4, EACCES = 13, EPERM = 1, EFBIG = 27, EISDIR = 21, EROFS = 30, ENODATA = 61, EPROTO = 71;

    public const int O_WRONLY = 1, O_CREAT = 0x40, O_EXCL = 0x80, O_NONBLOCK = 0x800, O_DIRECTORY = 0x10000,
        O_NOFOLLOW = 0x20000, O_PATH = 0x200000, AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_REMOVEDIR = 0x200;

    public static int Errno => Libc.Errno;

    /// <summary>Runs call with target as a NUL-terminated UTF-8 string.</summary>
    public static byte[] Z(string s)
    {
        // A name from an image may hold bytes that are not UTF-8 (NameCodec): they go back as those bytes.
        if (Paths.NameCodec.HasRawBytes(s)) return [.. Paths.NameCodec.Encode(s), 0];
        var bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(s) + 1];
        System.Text.Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    public static int Open(string path, int flags)
    {
        fixed (byte* p = Z(path))
        {
            int fd;
            do { fd = Libc.open(p, flags | LibC.O_CLOEXEC, 0); } while (fd < 0 && Errno == 4 /* EINTR */);
            if (fd < 0) throw new NativeException("open", Errno, path);
            return fd;
        }
    }

    public static void Close(int fd) => Libc.close(fd);

    /// <summary>glibc's makedev: 12-bit major and 20-bit minor split across the 64-bit dev_t.</summary>
    public static ulong MakeDev(uint major, uint minor) =>
        (minor & 0xffUL) | ((major & 0xfffUL) << 8) | ((minor & ~0xffUL) << 12) | ((major & ~0xfffUL) << 32);
}
