using System.Management.Automation;
using RestoreTools.Engine;
using RestoreTools.Engine.Browsing;
using RestoreTools.Engine.Export;

namespace RestoreTools.Module.Commands;

/// <summary>
/// Writes files and trees from an image to one local archive through engine.Export: tar, tar.gz,
/// tar.zst, zip, or a file itself (raw). Every -Path value and every piped item is collected and
/// written as ONE archive when the input ends, as Compress-Archive does, each item under its own
/// name at the archive's top. The archive goes to a temp file beside the destination and is
/// renamed over it only when complete, so a failure leaves nothing half-written.
/// </summary>
[Cmdlet(VerbsData.Export, "RestoreItem", SupportsShouldProcess = true, DefaultParameterSetName = LiteralPathParameterSet)]
[OutputType(typeof(FileInfo))]
public sealed class ExportRestoreItemCommand : RestoreCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathParameterSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RestorePathCompleter))]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[] Path { get; set; } = [];

    /// <summary>Paths taken as written: '*', '?', '[' and ']' are parts of names.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathParameterSet, ValueFromPipelineByPropertyName = true)]
    [Alias(LiteralAlias, RestorePathAlias)]
    [ArgumentCompleter(typeof(RestorePathCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = [];

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    [Parameter]
    public ExportFormat? Format { get; set; }

    /// <summary>Only files whose name matches one of these wildcards (folders are always taken, so the tree keeps its shape).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Include { get; set; }

    /// <summary>Files whose name matches one of these wildcards are left out.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Exclude { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Carry extended attributes into tar archives (SCHILY.xattr records, as GNU tar's --xattrs).</summary>
    [Parameter]
    public SwitchParameter ExtendedAttribute { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>One item to export: what was given, the item, the session it comes through (null: this host).</summary>
    private sealed record Input(string Given, RestoreItem Item, Remote.RestoreSession? Via);

    private readonly List<Input> _inputs = [];

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

    /// <summary>Collects: each value is checked now (so a wrong one is named at once), and written with the others at the end.</summary>
    protected override void ProcessRecord()
    {
        // A Restore: drive path goes through its drive's session; a restore path through -Session (or the item's).
        // A -Path value's wildcards are expanded by the engine; each match is an item of the archive.
        foreach (var (t, shown) in EachTarget(Path, LiteralPath))
        {
            Try(shown, () =>
            {
                var via = t.Session;
                if (_inputs.Count > 0 && !ReferenceEquals(_inputs[0].Via, via))
                    ThrowTerminatingError(new ErrorRecord(new RestoreException(RestoreErrorCode.InvalidPath,
                        $"'{shown}' comes through {Describe(via)}, the items before it through {Describe(_inputs[0].Via)}: one archive holds the items of one session; export each session's items to an archive of its own", shown),
                        "SessionsDiffer", ErrorCategory.InvalidArgument, shown));
                var item = t.Item ?? t.Engine.GetItem(t.RestorePath);
                if (item.Type is ItemType.Disk or ItemType.BucketType)
                    throw new RestoreException(RestoreErrorCode.InvalidPath,
                        $"'{item.Path}' is not inside a bucket: export takes /disk/type/component[/path]", t.RestorePath);
                _inputs.Add(new Input(t.RestorePath, item, via));
            });
        }
    }

    private static string Describe(Remote.RestoreSession? session) => session is null ? "this host" : $"session {session.Id} ({session.Endpoint})";

    protected override void EndProcessing()
    {
        base.EndProcessing();
        if (_inputs.Count == 0) return; // every value was refused already, each with its error
        // The session the items came through, so that an agent's refusal is reported as one (Try).
        Session = _inputs[0].Via;
        Try(_inputs.Count == 1 ? _inputs[0].Given : Destination, WriteArchive);
    }

    private void WriteArchive()
    {
        var first = _inputs[0].Item;
        bool single = _inputs.Count == 1;
        var engine = _inputs[0].Via?.Engine ?? EngineHolder.Engine;

        string destination = GetUnresolvedProviderPathFromPSPath(Destination);
        bool intoFolder = Directory.Exists(destination) && new DirectoryInfo(destination).LinkTarget is null;
        if (intoFolder && !single)
            throw new RestoreException(RestoreErrorCode.InvalidPath,
                $"'{destination}' is a folder: {_inputs.Count} items go into one archive, so name the archive file (e.g. {System.IO.Path.Combine(destination, "restore.tar")})", destination);
        // A folder to an archive named .7z or .rar would otherwise silently be a tar under that name.
        if (Format is null && !intoFolder && !(single && first.Type == ItemType.File) && FormatFromName(destination) is null
            && System.IO.Path.GetExtension(destination) is { Length: > 0 } ext)
            throw new RestoreException(RestoreErrorCode.NotSupported,
                $"'{ext}' is not an archive this cmdlet writes (.tar, .tar.gz, .tgz, .tar.zst, .tzst, .zip): name the destination so, or give -Format", destination);
        var format = Format ?? FormatFromName(destination) ?? (single && first.Type == ItemType.File ? ExportFormat.Raw : ExportFormat.Tar);
        if (format == ExportFormat.Raw && !single)
            throw new RestoreException(RestoreErrorCode.NotSupported,
                $"-Format Raw writes one file, and {_inputs.Count} items were given: use -Format Tar or Zip (or a .tar/.zip name) to put them in one archive", destination);
        // An existing folder: the archive goes inside it, named after the item.
        if (intoFolder)
            destination = System.IO.Path.Combine(destination, first.Name + Extension(format));
        if (format == ExportFormat.Raw && first.Type != ItemType.File)
            throw new RestoreException(RestoreErrorCode.NotAFile,
                $"'{first.Path}' is not a file: raw export takes one file; use -Format Tar or Zip for a folder", _inputs[0].Given);

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

        string what = single ? first.Path : $"{_inputs.Count} items ({string.Join(", ", _inputs.Take(3).Select(i => i.Item.Path))}{(_inputs.Count > 3 ? ", ..." : "")})";
        if (!ShouldProcess($"Item: {what} Destination: {destination}", $"Export restore item as {format}")) return;

        // Entries are named below their root's name at the archive's top: back to restore paths by that first segment.
        var byName = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var i in _inputs) byName.TryAdd(i.Item.Name, i.Item.Path);
        string Locate(string rel)
        {
            if (single) return TransferPump.EntryPath(first.Path, rel);
            string top = rel.TrimStart('/').Split('/')[0];
            return byName.TryGetValue(top, out var root) ? TransferPump.EntryPath(root, rel.TrimStart('/')[top.Length..]) : rel;
        }

        string temp = System.IO.Path.Combine(folder, $".{System.IO.Path.GetFileName(destination)}.{Guid.NewGuid():N}.partial");
        long? total = _inputs.All(i => i.Item.Type == ItemType.File) ? _inputs.Sum(i => i.Item.Size) : null;
        var pump = new TransferPump(this, $"Export-RestoreItem {(single ? first.Path : $"{_inputs.Count} items")}", $"Writing {format} to {destination}", total)
        {
            RootPath = first.Path,
            Locate = Locate,
        };
        // The free space where the archive lands bounds it: a file that would pass it is refused with the sizes named.
        var options = new ExportOptions(format)
        {
            Xattrs = ExtendedAttribute.IsPresent,
            Include = Include,
            Exclude = Exclude,
            OnError = pump.OnError,
            OnWarning = pump.OnWarning,
            SpaceAvailable = RestoreTools.Engine.Native.FreeSpace.Of(folder),
        };
        var paths = _inputs.Select(i => i.Given).ToList();
        bool done = false;
        try
        {
            pump.Run(ct =>
            {
                using var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
                var result = single ? engine.Export(paths[0], output, options, pump, ct) : engine.Export(paths, output, options, pump, ct);
                output.Flush(flushToDisk: true);
                return result;
            }, StopToken,
            (rel, reason) => WriteError(TransferPump.ItemError("ExportItemFailed", Locate(rel), reason)));
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
