namespace RestoreTools.Engine.Mounting;

/// <summary>A mount served from user space (ntfs-3g's process, the engine's own FUSE server), ended after its unmount.</summary>
internal interface IServedMount
{
    string MountPoint { get; }

    /// <summary>Called after the unmount: the server ends, or is ended.</summary>
    void Stop();
}
