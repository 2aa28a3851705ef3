using System.Text;
using Tmds.Linux;

namespace RestoreTools.Engine.Native;

/// <summary>
/// The names in a folder, read with getdents64 as the caller iterates (constant memory for any
/// folder size). Opened through PathAt, so a folder deeper than PATH_MAX is read like any other,
/// and with O_NOFOLLOW, so a symlink given as the folder is never read through.
/// </summary>
public static unsafe class DirectoryEntries
{
    /// <summary>One name of a folder: its bytes as the filesystem holds them, and the engine's string for them (NameCodec).</summary>
    public readonly record struct Name(byte[] Bytes, string Text);

    /// <summary>Lazy: the folder is opened at the first MoveNext (and its open error thrown there), closed at Dispose.</summary>
    public static IEnumerable<Name> Read(string path)
    {
        int fd = OpenFolder(path);
        try
        {
            var buf = new byte[32 * 1024];
            while (true)
            {
                int n = Fill(fd, buf, path);
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
                    yield return new Name(bytes, Paths.NameCodec.Decode(bytes));
                }
            }
        }
        finally { Sys.Close(fd); }
    }

    private static int OpenFolder(string path)
    {
        int fd = PathAt.Run(path, (dir, name) =>
        {
            int f;
            do { f = Libc.openat(dir, name, LibC.O_RDONLY | Sys.O_DIRECTORY | Sys.O_NOFOLLOW | LibC.O_CLOEXEC, 0); } while (f < 0 && Sys.Errno == Sys.EINTR);
            return f < 0 ? -Sys.Errno : f;
        });
        if (fd < 0) throw new NativeException("opendir", -fd, path);
        return fd;
    }

    private static int Fill(int fd, byte[] buf, string path)
    {
        fixed (byte* b = buf)
        {
            nint n;
            do { n = Libc.getdents64(fd, b, (nuint)buf.Length); } while (n < 0 && Sys.Errno == Sys.EINTR);
            if (n < 0) throw new NativeException("getdents64", Sys.Errno, path);
            return (int)n;
        }
    }
}
