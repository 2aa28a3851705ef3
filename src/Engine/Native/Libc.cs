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
    [LibraryImport(Lib, SetLastError = true)] public static partial nint pread(int fd, byte* buf, nuint count, long offset);
    [LibraryImport(Lib, SetLastError = true)] public static partial int fstat(int fd, Tmds.Linux.stat* buf);

    /// <summary>errno of the last call above, as the runtime saved it.</summary>
    public static int Errno => Marshal.GetLastPInvokeError();
}
