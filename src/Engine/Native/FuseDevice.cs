using Tmds.Linux;

namespace RestoreTools.Engine.Native;

/// <summary>
/// One FUSE connection: /dev/fuse opened, mounted as a read-only fuseblk over a block device, and its
/// requests read and answered. fuseblk, not fuse: the kernel then shows the block device in mountinfo
/// (as for ntfs-3g), so the owner record's device matches and a killed engine's mount is found again,
/// and on unmount it sends DESTROY and waits for the answer, so the server ends in step.
/// </summary>
internal sealed unsafe class FuseDevice : IDisposable
{
    private int _fd;

    private FuseDevice(int fd) => _fd = fd;

    public static bool Exists => File.Exists("/dev/fuse");

    public static FuseDevice Open() => new(Sys.Open("/dev/fuse", LibC.O_RDWR));

    /// <summary>Mounts this connection read-only on target; 0 or the errno.</summary>
    /// <param name="subtype">Shown in mountinfo as fuseblk.SUBTYPE.</param>
    /// <param name="blockSize">The superblock's block size: a power of two from 512 to the page size.</param>
    public int Mount(string device, string target, string subtype, int blockSize)
    {
        // default_permissions: the kernel checks modes itself (no ACCESS requests); allow_other: the
        // engine's other users (a pwsh drive, the agent's workers) are the same root, but a mount made
        // here is seen by every process, as a kernel driver's would be.
        string data = $"fd={_fd},rootmode=40000,user_id=0,group_id=0,default_permissions,allow_other,blksize={blockSize}";
        return MountCalls.TryMount(device, target, "fuseblk." + subtype, MountCalls.ReadOnlyFlags, data);
    }

    /// <summary>Reads one request; its length, or 0 when the connection has ended (unmounted or aborted).</summary>
    public int Read(Span<byte> buffer)
    {
        fixed (byte* b = buffer)
        {
            while (true)
            {
                int fd = Volatile.Read(ref _fd);
                if (fd < 0) return 0;
                nint n = Libc.read(fd, b, (nuint)buffer.Length);
                if (n >= 0) return (int)n;
                int e = Sys.Errno;
                // ENOENT: a request interrupted before it was read; EINTR, EAGAIN: again.
                if (e is Sys.EINTR or Sys.ENOENT or 11 /* EAGAIN */) continue;
                if (e == Sys.ENODEV) return 0;
                throw new NativeException("read", e, "/dev/fuse");
            }
        }
    }

    /// <summary>Writes one answer. ENOENT (the request was interrupted and is gone) is not an error.</summary>
    public void Write(ReadOnlySpan<byte> reply)
    {
        fixed (byte* b = reply)
        {
            while (true)
            {
                int fd = Volatile.Read(ref _fd);
                if (fd < 0) return;
                nint n = Libc.write(fd, b, (nuint)reply.Length);
                if (n >= 0) return;
                int e = Sys.Errno;
                if (e == Sys.EINTR) continue;
                if (e is Sys.ENOENT or Sys.ENODEV) return;
                throw new NativeException("write", e, "/dev/fuse");
            }
        }
    }

    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) Sys.Close(fd);
    }
}
