namespace RestoreTools.Engine;

/// <summary>Where the engine looks and where it keeps its own nodes and mounts.</summary>
public sealed record EngineOptions
{
    /// <summary>sysfs root; a test may point it at a fake tree.</summary>
    public string SysRoot { get; init; } = "/sys";

    /// <summary>Where the system's device nodes live (devtmpfs).</summary>
    public string DevRoot { get; init; } = "/dev";

    /// <summary>The engine's own node directory, for devices that DevRoot lacks.</summary>
    public string NodeDir { get; init; } = "/run/restoretools/dev";

    /// <summary>Mount points: MountRoot/disk/type/component.</summary>
    public string MountRoot { get; init; } = "/run/restoretools/mnt";

    /// <summary>
    /// When set, images are attached only from inside this folder: a path is taken relative to it,
    /// must not leave it, and is walked without following any symlink. Null: any path.
    /// </summary>
    public string? ImageRoot { get; init; }

    /// <summary>
    /// Whether virtio disks (/sys/block/vd*) are restore disks. True inside a restore VM (its /init
    /// leaves a marker file), where every virtio disk is an image; false on a host, whose own
    /// system disks are often virtio too.
    /// </summary>
    public bool ScanVirtio { get; init; } = File.Exists(RestoreVmMarker);

    /// <summary>The file a restore VM's /init creates.</summary>
    public const string RestoreVmMarker = "/etc/restoretools/restore-vm";

    /// <summary>Receives warnings (an unreadable serial, a bucket that failed to probe).</summary>
    public Action<string>? Warning { get; init; }
}
