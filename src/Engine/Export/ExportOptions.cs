namespace RestoreTools.Engine.Export;

public enum ExportFormat { Tar, TarGz, TarZst, Zip, Raw }

public abstract record ExportOptionsBase
{
    /// <summary>Stop at the first unreadable entry instead of reporting it and going on.</summary>
    public bool StopOnError { get; init; }

    /// <summary>Receives each entry that could not be read (path, reason) when going on.</summary>
    public Action<string, string>? OnError { get; init; }

    /// <summary>
    /// Carry extended attributes (user.*, trusted.*, security.* labels, POSIX ACLs): into tar as GNU
    /// tar's --xattrs does (SCHILY.xattr.NAME), onto copies. security.capability is never set on a
    /// copy: like a setuid bit, it would grant privileges on this host.
    /// </summary>
    public bool Xattrs { get; init; }

    /// <summary>Receives each entry left out or changed on purpose (path, reason): a FIFO not created, a setuid bit dropped.</summary>
    public Action<string, string>? OnWarning { get; init; }

    /// <summary>
    /// Name wildcards (RestoreWildcard: * ? [a-z], case-insensitive) a file must match one of to be
    /// taken, as Copy-Item's -Include. Folders are always walked and kept (NameFilter).
    /// </summary>
    public IReadOnlyList<string>? Include { get; init; }

    /// <summary>Name wildcards that leave a file out, as Copy-Item's -Exclude; folders are still walked.</summary>
    public IReadOnlyList<string>? Exclude { get; init; }

    /// <summary>One more name wildcard every file taken must match, as Copy-Item's -Filter.</summary>
    public string? Filter { get; init; }
}

public sealed record ExportOptions(ExportFormat Format = ExportFormat.Tar) : ExportOptionsBase
{
    /// <summary>
    /// Bytes the archive may take where it lands (free space there), when known. A file whose
    /// bytes would pass it is refused with the sizes named, instead of filling the disk (zip and
    /// raw expand holes; tar keeps them out).
    /// </summary>
    public long? SpaceAvailable { get; init; }
}

public sealed record CopyOptions : ExportOptionsBase
{
    /// <summary>How a refusal to overwrite ends (without Force): the faces tell it from other errors by it (TargetExists).</summary>
    public const string ExistsReason = "exists (use -Force to overwrite)";

    /// <summary>Copy a folder with everything below it; without it only the folder itself is made.</summary>
    public bool Recurse { get; init; } = true;

    /// <summary>Overwrite existing files; without it an existing target is an error for that item.</summary>
    public bool Force { get; init; }

    /// <summary>
    /// Give copies their numeric owner and group, as cp -a and tar --same-owner do; only root can,
    /// and only with it do setuid, setgid and sticky bits stay. Otherwise the user who copies owns them.
    /// </summary>
    public bool RestoreOwners { get; init; } = true;

    /// <summary>
    /// Keep the folder structure, as Copy-Item's -Container (the default). Without it the files
    /// (and links) of a copied folder land side by side directly in the destination folder and no
    /// folder is made; a name met twice is an error for the later file, which is never written,
    /// even with Force (Force only replaces what was there before the copy).
    /// </summary>
    public bool Container { get; init; } = true;
}

/// <summary>Progress of an export or copy: what is done so far, and the total when known.</summary>
public sealed record TransferProgress(long BytesDone, long FilesDone, string? CurrentPath, long? BytesTotal = null, long? FilesTotal = null);

/// <summary>What an export or copy did.</summary>
public sealed record ExportResult(long Bytes, long Files, long Directories, long Symlinks, IReadOnlyList<string> Errors, IReadOnlyList<string>? Warnings = null);
