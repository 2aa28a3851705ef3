namespace RestoreTools.Engine.Export;

/// <summary>For remote clients: a copy written from an export tar with the engine's own copy rules.</summary>
public static class TreeCopy
{
    public static ExportResult FromTar(Stream tar, string rootName, string destination, CopyOptions options,
        IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Exporter.CopyFromTar(tar, rootName, destination, options, progress, cancellationToken);
}
