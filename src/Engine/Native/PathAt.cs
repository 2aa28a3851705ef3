using System.Text;

namespace RestoreTools.Engine.Native;

/// <summary>
/// Calls an *at function on a path of any length. A path the kernel takes whole (under
/// PATH_MAX, 4096 bytes with its NUL) goes relative to AT_FDCWD; a longer one is walked in
/// pieces: its parent folder is opened a few thousand bytes at a time (O_PATH, each piece
/// ending in O_NOFOLLOW), and the call runs on the last name relative to that folder. That is
/// how a tree past PATH_MAX in an image is listed, read and archived.
/// </summary>
internal static unsafe class PathAt
{
    /// <summary>Longest path handed to the kernel whole; leaves room for the NUL and a margin.</summary>
    private const int Whole = 4000;

    public delegate T Call<T>(int dirfd, byte* name);

    public static T Run<T>(string path, Call<T> call)
    {
        byte[] bytes = Sys.Z(path);
        if (bytes.Length <= Whole)
        {
            fixed (byte* p = bytes) return call(Sys.AT_FDCWD, p);
        }
        int dir = OpenParent(path, out string leaf);
        try
        {
            fixed (byte* p = Sys.Z(leaf)) return call(dir, p);
        }
        finally { Sys.Close(dir); }
    }

    /// <summary>Opens the folder that holds the last name of path, piece by piece.</summary>
    private static int OpenParent(string path, out string leaf)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new NativeException("open", Sys.ENOENT, path);
        leaf = parts[^1];
        int dir;
        fixed (byte* start = Sys.Z(path.StartsWith('/') ? "/" : "."))
            dir = Libc.open(start, Sys.O_PATH | Sys.O_DIRECTORY | Tmds.Linux.LibC.O_CLOEXEC, 0);
        if (dir < 0) throw new NativeException("open", Sys.Errno, path);
        try
        {
            var piece = new StringBuilder();
            for (int i = 0; i < parts.Length - 1; i++)
            {
                if (piece.Length > 0) piece.Append('/');
                piece.Append(parts[i]);
                bool last = i == parts.Length - 2;
                if (!last && Encoding.UTF8.GetByteCount(piece.ToString()) + parts[i + 1].Length * 3 + 1 < Whole) continue;
                int next;
                fixed (byte* p = Sys.Z(piece.ToString()))
                    next = Libc.openat(dir, p, Sys.O_PATH | Sys.O_DIRECTORY | Sys.O_NOFOLLOW | Tmds.Linux.LibC.O_CLOEXEC, 0);
                if (next < 0) throw new NativeException("openat", Sys.Errno, path);
                Sys.Close(dir);
                dir = next;
                piece.Clear();
            }
            return dir;
        }
        catch
        {
            Sys.Close(dir);
            throw;
        }
    }
}
