using System.Management.Automation;
using RestoreTools.Engine;
using RestoreTools.Engine.Browsing;
using RestoreTools.Engine.Export;

namespace RestoreTools.Module.Commands;

/// <summary>
/// Writes a file or a tree from an image to one local archive through engine.Export: tar, tar.gz,
/// tar.zst, zip, or the file itself (raw). The archive goes to a temp file beside the destination
/// and is renamed over it only when complete, so a failure leaves nothing half-written.
/// </summary>
[Cmdlet(VerbsData.Export, "RestoreItem", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportRestoreItemCommand : RestoreCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RestorePathCompleter))]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    [Parameter]
    public ExportFormat? Format { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Carry extended attributes into tar archives (SCHILY.xattr records, as GNU tar's --xattrs).</summary>
    [Parameter]
    public SwitchParameter ExtendedAttribute { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>The format a destination name asks for, or null when its extension names none.</summary>
    public static ExportFormat? FormatFromName(string fileName)
    {
        string n = fileName.ToLowerInvariant();
        if (n.EndsWith(".tar.gz") || n.EndsWith(".tgz")) return ExportFormat.TarGz;
        if (n.EndsWith(".tar.zst") || n.EndsWith(".tzst")) return ExportFormat.TarZst;
        if (n.EndsWith(".tar")) return ExportFormat.Tar;
        if (n.EndsWith(".zip")) return ExportFormat.Zip;
        return null;
    }

    public static string Extension(ExportFormat format) => format switch
    {
        ExportFormat.Tar => ".tar",
        ExportFormat.TarGz => ".tar.gz",
        ExportFormat.TarZst => ".tar.zst",
        ExportFormat.Zip => ".zip",
        _ => "",
    };

    protected override void ProcessRecord() => Try(Path, ExportOne);

    private void ExportOne()
    {
        var item = Engine.GetItem(Path);
        if (item.Type is ItemType.Disk or ItemType.BucketType)
            throw new RestoreException(RestoreErrorCode.InvalidPath,
                $"'{item.Path}' is not inside a bucket: export takes /disk/type/component[/path]", Path);

        string destination = GetUnresolvedProviderPathFromPSPath(Destination);
        bool intoFolder = Directory.Exists(destination) && new DirectoryInfo(destination).LinkTarget is null;
        // A folder to an archive named .7z or .rar would otherwise silently be a tar under that name.
        if (Format is null && !intoFolder && item.Type != ItemType.File && FormatFromName(destination) is null
            && System.IO.Path.GetExtension(destination) is { Length: > 0 } ext)
            throw new RestoreException(RestoreErrorCode.NotSupported,
                $"'{ext}' is not an archive this cmdlet writes (.tar, .tar.gz, .tgz, .tar.zst, .tzst, .zip): name the destination so, or give -Format", destination);
        var format = Format ?? FormatFromName(destination) ?? (item.Type == ItemType.File ? ExportFormat.Raw : ExportFormat.Tar);
        // An existing folder: the archive goes inside it, named after the item.
        if (intoFolder)
            destination = System.IO.Path.Combine(destination, item.Name + Extension(format));
        if (format == ExportFormat.Raw && item.Type != ItemType.File)
            throw new RestoreException(RestoreErrorCode.NotAFile,
                $"'{item.Path}' is not a file: raw export takes one file; use -Format Tar or Zip for a folder", Path);

        var existing = new FileInfo(destination);
        bool exists = existing.Exists || existing.LinkTarget is not null;
        if (Directory.Exists(destination) && existing.LinkTarget is null)
            throw new RestoreException(RestoreErrorCode.TargetExists, $"'{destination}' is a folder", destination);
        if (exists && !Force)
            throw new RestoreException(RestoreErrorCode.TargetExists,
                $"'{destination}' exists (use -Force to overwrite)", destination);
        string folder = System.IO.Path.GetDirectoryName(destination)!;
        if (!Directory.Exists(folder))
            throw new RestoreException(RestoreErrorCode.WriteFailed, $"destination folder '{folder}' does not exist", destination);

        if (!ShouldProcess($"Item: {item.Path} Destination: {destination}", $"Export restore item as {format}")) return;

        string temp = System.IO.Path.Combine(folder, $".{System.IO.Path.GetFileName(destination)}.{Guid.NewGuid():N}.partial");
        var pump = new TransferPump(this, $"Export-RestoreItem {item.Path}", $"Writing {format} to {destination}",
            item.Type == ItemType.File ? item.Size : null) { RootPath = item.Path };
        // The free space where the archive lands bounds it: a file that would pass it is refused with the sizes named.
        var options = new ExportOptions(format) { Xattrs = ExtendedAttribute.IsPresent, OnError = pump.OnError, OnWarning = pump.OnWarning, SpaceAvailable = RestoreTools.Engine.Native.FreeSpace.Of(folder) };
        bool done = false;
        try
        {
            pump.Run(ct =>
            {
                using var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
                var result = Engine.Export(Path, output, options, pump, ct);
                output.Flush(flushToDisk: true);
                return result;
            }, StopToken,
            (rel, reason) => WriteError(TransferPump.ItemError("ExportItemFailed", TransferPump.EntryPath(item.Path, rel), reason)));
            try
            {
                File.Move(temp, destination, overwrite: Force.IsPresent);
            }
            catch (IOException ex)
            {
                throw new RestoreException(RestoreErrorCode.WriteFailed, $"cannot write '{destination}': {ex.Message}", destination, ex);
            }
            done = true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RestoreException(RestoreErrorCode.WriteFailed, $"writing '{destination}' failed: {ex.Message}", destination, ex);
        }
        finally
        {
            if (!done) try { File.Delete(temp); } catch (Exception) { }
        }

        if (PassThru)
            foreach (var o in SessionState.InvokeProvider.Item.Get([destination], true, true)) WriteObject(o);
    }
}
