using System.Runtime.InteropServices;

namespace RestoreTools.Engine.Native;

/// <summary>
/// The libc calls whose errno the engine acts on, declared with SetLastError so the runtime saves
/// errno right after the call. Read later (as Tmds.LibC's errno property does), errno can be
/// clobbered by the runtime on the way back: under NativeAOT a failed lstat read back as 0.
/// Tmds.LibC still provides the constants and structs.
/// </summary>
internal static unsafe partial class Libc
{
    private const string Lib = "libc";

    [LibraryImport(Lib, SetLastError = true)] public static partial int open(byte* path, int flags, uint mode);
    [LibraryImport(Lib, SetLastError = true)] public static partial int close(int fd);
    [LibraryImport(Lib, SetLastError = true)] public static partial int ioctl(int fd, nuint request, void* arg);
    [LibraryImport(Lib, SetLastError = true)] public static partial int ioctl(int fd, nuint request, nint arg);
    [LibraryImport(Lib, SetLastError = true)] public static partial int mount(byte* source, byte* target, byte* fstype, nuint flags, void* data);
    [LibraryImport(Lib, SetLastError = true)] public static partial int umount2(byte* target, int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial int mknod(byte* path, uint mode, ulong dev);
    [LibraryImport(Lib, SetLastError = true)] public static partial int stat(byte* path, Tmds.Linux.stat* buf);
    [LibraryImport(Lib, SetLastError = true)] public static partial int lstat(byte* path, Tmds.Linux.stat* buf);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint readlink(byte* path, byte* buf, nuint size);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint read(int fd, byte* buf, nuint count);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint pread(int fd, byte* buf, nuint count, long offset);
    [LibraryImport(Lib, SetLastError = true)] public static partial int fstat(int fd, Tmds.Linux.stat* buf);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint write(int fd, byte* buf, nuint count);

    // The *at family: every write below a copy's destination, and every read of a path deeper than
    // PATH_MAX, goes relative to an open directory so no symlink in between is ever followed.
    [LibraryImport(Lib, SetLastError = true)] public static partial int openat(int dirfd, byte* path, int flags, uint mode);
    [LibraryImport(Lib, SetLastError = true)] public static partial int mkdirat(int dirfd, byte* path, uint mode);
    [LibraryImport(Lib, SetLastError = true)] public static partial int symlinkat(byte* target, int dirfd, byte* path);
    [LibraryImport(Lib, SetLastError = true)] public static partial int linkat(int olddirfd, byte* oldpath, int newdirfd, byte* newpath, int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial int unlinkat(int dirfd, byte* path, int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial int fstatat(int dirfd, byte* path, Tmds.Linux.stat* buf, int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint readlinkat(int dirfd, byte* path, byte* buf, nuint size);
    [LibraryImport(Lib, SetLastError = true)] public static partial int fchmod(int fd, uint mode);
    [LibraryImport(Lib, SetLastError = true)] public static partial int fchown(int fd, uint uid, uint gid);
    [LibraryImport(Lib, SetLastError = true)] public static partial int fchownat(int dirfd, byte* path, uint uid, uint gid, int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial int utimensat(int dirfd, byte* path, Tmds.Linux.timespec* times, int flags);
    [LibraryImport(Lib, SetLastError = true)] public static partial int futimens(int fd, Tmds.Linux.timespec* times);
    [LibraryImport(Lib, SetLastError = true)] public static partial int ftruncate(int fd, long length);
    [LibraryImport(Lib, SetLastError = true)] public static partial long lseek(int fd, long offset, int whence);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint pwrite(int fd, byte* buf, nuint count, long offset);
    [LibraryImport(Lib, SetLastError = true)] public static partial int fstatvfs(int fd, byte* buf);
    [LibraryImport(Lib, SetLastError = true)] public static partial int statvfs(byte* path, byte* buf);
    [LibraryImport(Lib, SetLastError = true)] public static partial nint getdents64(int fd, byte* buf, nuint count);
    [LibraryImport(Lib)] public static partial uint geteuid();
    // Returns the error number itself (0 on success), not -1 and errno.
    [LibraryImport(Lib)] public static partial int posix_fadvise(int fd, long offset, long length, int advice);
    public const int POSIX_FADV_WILLNEED = 3;
    [LibraryImport(Lib, SetLastError = true)] public static partial nint preadv2(int fd, Tmds.Linux.iovec* iov, int iovcnt, long offset, int flags);
    /// <summary>preadv2: fail with EAGAIN rather than wait for the disk (the data is not in the page cache).</summary>
    public const int RWF_NOWAIT = 0x8;

    /// <summary>errno of the last call above, as the runtime saved it.</summary>
    public static int Errno => Marshal.GetLastPInvokeError();
}
