using System.Runtime.InteropServices;
using System.Text;

namespace RestoreTools.Engine.Native;

/// <summary>
/// Extended attributes (user.*, security.*, trusted.*, POSIX ACLs as system.posix_acl_*) of an
/// entry itself, never of what a link points to (the l* calls). A path past PATH_MAX is reached
/// through its parent's descriptor as /proc/self/fd/N/NAME, which the l* calls take like any path.
/// </summary>
public static unsafe partial class Xattrs
{
    [LibraryImport("libc", SetLastError = true)] private static partial nint llistxattr(byte* path, byte* list, nuint size);
    [LibraryImport("libc", SetLastError = true)] private static partial nint lgetxattr(byte* path, byte* name, byte* value, nuint size);
    [LibraryImport("libc", SetLastError = true)] private static partial int lsetxattr(byte* path, byte* name, byte* value, nuint size, int flags);
    [LibraryImport("libc", SetLastError = true)] private static partial int fsetxattr(int fd, byte* name, byte* value, nuint size, int flags);

    private const int ENODATA = 61, ENOTSUP = 95, ERANGE = 34;

    /// <summary>Every attribute of the entry at path, in the order the filesystem lists them.</summary>
    public static IReadOnlyList<(string Name, byte[] Value)> Read(string path) =>
        PathAt.Run(path, (dir, name) =>
        {
            string p = dir == Sys.AT_FDCWD ? path : $"/proc/self/fd/{dir}/{Marshal.PtrToStringUTF8((nint)name)}";
            return ReadPath(Sys.Z(p), path);
        });

    private static IReadOnlyList<(string, byte[])> ReadPath(byte[] z, string display)
    {
        var result = new List<(string, byte[])>();
        fixed (byte* p = z)
        {
            nint size = llistxattr(p, null, 0);
            if (size < 0)
            {
                int e = Sys.Errno;
                if (e == ENOTSUP) return result;
                throw new NativeException("llistxattr", e, display);
            }
            if (size == 0) return result;
            var list = new byte[size + 256];
            fixed (byte* l = list)
            {
                size = llistxattr(p, l, (nuint)list.Length);
                if (size < 0) throw new NativeException("llistxattr", Sys.Errno, display);
            }
            int start = 0;
            for (int i = 0; i < size; i++)
            {
                if (list[i] != 0) continue;
                string name = Encoding.UTF8.GetString(list, start, i - start);
                var nameZ = list.AsSpan(start, i - start + 1).ToArray();
                start = i + 1;
                if (name.Length == 0) continue;
                fixed (byte* n = nameZ)
                {
                    nint len = lgetxattr(p, n, null, 0);
                    if (len < 0)
                    {
                        if (Sys.Errno == ENODATA) continue; // removed in between
                        throw new NativeException("lgetxattr", Sys.Errno, display);
                    }
                    var value = new byte[len];
                    fixed (byte* v = value)
                    {
                        nint got = lgetxattr(p, n, v, (nuint)value.Length);
                        if (got < 0) throw new NativeException("lgetxattr", Sys.Errno == ERANGE ? ERANGE : Sys.Errno, display);
                        result.Add((name, got == len ? value : value[..(int)got]));
                    }
                }
            }
        }
        return result;
    }

    /// <summary>Sets one attribute on an open file or folder of a copy.</summary>
    internal static void Set(int fd, string name, byte[] value, string display)
    {
        fixed (byte* n = Sys.Z(name))
        fixed (byte* v = value)
            if (fsetxattr(fd, n, v, (nuint)value.Length, 0) != 0) throw new NativeException($"setxattr {name}", Sys.Errno, display);
    }

    /// <summary>Sets one attribute on a child link itself, through its folder's descriptor.</summary>
    internal static void SetOnLink(int dirFd, string child, string name, byte[] value, string display)
    {
        fixed (byte* p = Sys.Z($"/proc/self/fd/{dirFd}/{child}"))
        fixed (byte* n = Sys.Z(name))
        fixed (byte* v = value)
            if (lsetxattr(p, n, v, (nuint)value.Length, 0) != 0) throw new NativeException($"lsetxattr {name}", Sys.Errno, display);
    }
}
