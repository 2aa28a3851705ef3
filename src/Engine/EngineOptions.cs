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

    /// <summary>Receives warnings (an unreadable serial, a bucket that failed to probe).</summary>
    public Action<string>? Warning { get; init; }
}
