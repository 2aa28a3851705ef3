using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Mounting.Fuse;

/// <summary>
/// A filesystem read in user space and mounted read-only through FUSE, served by this process on a
/// thread of its own: mounted like a kernel driver's mount (fuseblk over the bucket's device), ended by
/// unmounting. A killed engine leaves a mount whose server is gone ("transport endpoint is not
/// connected"); the owner record lists it with its device, and the next engine unmounts it.
/// </summary>
internal sealed class FuseMount : IServedMount
{
    private readonly FuseDevice _device;
    private readonly Thread _thread;
    private readonly IDisposable? _owned;
    public string MountPoint { get; }

    private FuseMount(FuseDevice device, Thread thread, string mountPoint, IDisposable? owned)
    {
        _device = device;
        _thread = thread;
        MountPoint = mountPoint;
        _owned = owned;
    }

    /// <summary>Mounts tree on mountPoint; the errno of a refused mount otherwise.</summary>
    /// <param name="owned">Disposed when the server ends (the tree's open device).</param>
    /// <param name="warn">Told why a request failed (the reader's own words); the caller gets EIO.</param>
    public static FuseMount Start<TNode>(IReadOnlyTree<TNode> tree, string device, string mountPoint, string subtype, IDisposable? owned, Action<string>? warn = null)
        where TNode : class
    {
        var fuse = FuseDevice.Open();
        try
        {
            int errno = fuse.Mount(device, mountPoint, subtype, 512);
            if (errno != 0) throw new NativeException("mount", errno, mountPoint);
            var server = new FuseServer<TNode>(tree, fuse, warn);
            var thread = new Thread(() => Serve(server, fuse, owned)) { IsBackground = true, Name = $"fuse {subtype} {mountPoint}" };
            thread.Start();
            return new FuseMount(fuse, thread, mountPoint, owned);
        }
        catch
        {
            fuse.Dispose();
            throw;
        }
    }

    private static void Serve<TNode>(FuseServer<TNode> server, FuseDevice fuse, IDisposable? owned) where TNode : class
    {
        try { server.Run(); }
        catch (NativeException) { }   // the connection failed under it: the mount shows it, nothing to save
        finally
        {
            fuse.Dispose();
            owned?.Dispose();
        }
    }

    /// <summary>After the unmount (whose DESTROY ends the server); a mount still there is detached.</summary>
    public void Stop()
    {
        if (!_thread.Join(TimeSpan.FromSeconds(5)) && ProcFilesystems.IsMountPoint(MountPoint))
            try { MountCalls.Unmount(MountPoint, lazy: true); } catch (NativeException) { }
    }
}
