using System.Management.Automation;
using RestoreTools.Engine;
using RestoreTools.Engine.Browsing;
using RestoreTools.Engine.Export;

namespace RestoreTools.Module.Commands;

/// <summary>
/// Copies files and folders out of an image to the local file system through engine.Copy:
/// into an existing folder under the item's name, otherwise to the destination path; modes,
/// mtimes and symlinks (as links) kept; nothing overwritten without -Force.
/// </summary>
[Cmdlet(VerbsCommon.Copy, "RestoreItem", SupportsShouldProcess = true, DefaultParameterSetName = LiteralPathParameterSet)]
[OutputType(typeof(FileSystemInfo))]
public sealed class CopyRestoreItemCommand : RestoreCmdlet
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
    public SwitchParameter Recurse { get; set; }

    /// <summary>Only files whose name matches one of these wildcards, as Copy-Item -Include (folders are always walked).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Include { get; set; }

    /// <summary>Files whose name matches one of these wildcards are left out, as Copy-Item -Exclude.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Exclude { get; set; }

    /// <summary>One more name wildcard every file must match, as Copy-Item -Filter.</summary>
    [Parameter]
    public string? Filter { get; set; }

    /// <summary>Keep the folder structure (the default, as Copy-Item); -Container:$false puts a folder's files side by side in the destination.</summary>
    [Parameter]
    public SwitchParameter Container { get; set; } = true;

    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Carry extended attributes (user.*, security labels, ACLs) onto the copies.</summary>
    [Parameter]
    public SwitchParameter ExtendedAttribute { get; set; }

    /// <summary>Leave owners to the user who copies (root restores the image's uid and gid by default).</summary>
    [Parameter]
    public SwitchParameter NoOwner { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        string destination = GetUnresolvedProviderPathFromPSPath(Destination);
        // Wildcards match dot-names with -Force only (as Copy-Item -Force takes hidden items); a folder
        // copied takes everything below it either way. A Restore: drive path copies through its drive's
        // engine; each match is its own item.
        foreach (var (t, shown) in EachTarget(Path, LiteralPath, matchHidden: Force))
            Try(shown, () => CopyOne(t.Engine, t.RestorePath, destination));
    }

    private void CopyOne(IRestoreEngine engine, string path, string destination)
    {
        var item = engine.GetItem(path);
        if (item.Type is ItemType.Disk or ItemType.BucketType)
            throw new RestoreException(RestoreErrorCode.InvalidPath,
                $"'{item.Path}' is not inside a bucket: copy takes /disk/type/component[/path]", path);
        var resolved = engine.Resolve(path);
        bool bucketRoot = resolved.RelativePath is null or "/";
        // -Container:$false: a folder's files go straight into the destination folder.
        bool flat = !Container.IsPresent && item.Type == ItemType.Directory;
        // Where the engine puts it: into an existing folder under the item's name, else the path itself.
        string root = Directory.Exists(destination) && !bucketRoot && !flat
            ? System.IO.Path.Combine(destination, item.Name)
            : destination;

        if (!ShouldProcess($"Item: {item.Path} Destination: {root}", "Copy restore item")) return;

        // Without -Recurse a folder is made alone, as Copy-Item does; the engine's safe writer makes it either way.
        var pump = new TransferPump(this, $"Copy-RestoreItem {item.Path}", $"Copying to {root}",
            item.Type == ItemType.File ? item.Size : null) { RootPath = item.Path };
        var options = new CopyOptions
        {
            Recurse = Recurse.IsPresent,
            Force = Force.IsPresent,
            RestoreOwners = !NoOwner.IsPresent,
            Xattrs = ExtendedAttribute.IsPresent,
            Include = Include,
            Exclude = Exclude,
            Filter = Filter,
            Container = Container.IsPresent,
            OnError = pump.OnError,
            OnWarning = pump.OnWarning,
        };
        pump.Run(ct => engine.Copy(path, destination, options, pump, ct), StopToken,
            (rel, reason) => WriteError(reason.EndsWith(CopyOptions.ExistsReason, StringComparison.Ordinal)
                // Refused to overwrite: the error is about the destination, which is what it names.
                ? new ErrorRecord(new RestoreException(RestoreErrorCode.TargetExists, $"{TransferPump.EntryPath(item.Path, rel)}: {reason}", DestinationOf(root, rel)),
                    nameof(RestoreErrorCode.TargetExists), ErrorCategory.ResourceExists, DestinationOf(root, rel))
                : TransferPump.ItemError("CopyItemFailed", TransferPump.EntryPath(item.Path, rel), reason)));

        if (PassThru && (File.Exists(root) || Directory.Exists(root) || new FileInfo(root).LinkTarget is not null))
        {
            foreach (var o in SessionState.InvokeProvider.Item.Get([root], true, true)) WriteObject(o);
        }
    }

    private static string DestinationOf(string root, string relative)
    {
        string rel = relative.TrimStart('/');
        // The tracker names entries below the copied item relative to it; the item itself is "".
        return rel.Length == 0 ? root : System.IO.Path.Combine(root, rel);
    }
}
