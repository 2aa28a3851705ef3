using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Provider;
using RestoreTools.Engine;
using RestoreTools.Engine.Browsing;

namespace RestoreTools.Module.Provider;

/// <summary>
/// The Restore: drive: disks, bucket types, components and the files of mounted buckets as a
/// read-only PowerShell drive. Every answer comes from IRestoreEngine (List, GetItem, Resolve,
/// OpenRead) of the drive's session or of this host; items are the engine's own objects
/// (RestoreDisk, RestoreBucket, RestoreItem). Changing commands are refused as read-only.
/// </summary>
[CmdletProvider(ProviderName, ProviderCapabilities.Filter)]
public sealed class RestoreProvider : NavigationCmdletProvider, IContentCmdletProvider
{
    public const string ProviderName = "RestoreTools";

    /// <summary>The drive made when the module is imported.</summary>
    public const string DefaultDriveName = "Restore";

    private IRestoreEngine Engine => (PSDriveInfo as RestoreDriveInfo)?.Engine ?? EngineHolder.Engine;

    // ---- drives

    protected override Collection<PSDriveInfo> InitializeDefaultDrives() =>
    [
        new RestoreDriveInfo(new PSDriveInfo(DefaultDriveName, ProviderInfo, "/",
            "Disks, buckets and files of the images attached on this host (read-only)", null), null),
    ];

    protected override object NewDriveDynamicParameters() => new RestoreDriveParameters();

    protected override PSDriveInfo? NewDrive(PSDriveInfo drive)
    {
        if (drive is RestoreDriveInfo) return drive;
        var session = (DynamicParameters as RestoreDriveParameters)?.Session;
        string root = DriveNames.Normalize(drive.Root);
        var made = new RestoreDriveInfo(new PSDriveInfo(drive.Name, drive.Provider, root, drive.Description, drive.Credential), session);
        // The root must name something on that engine (a disk, a level, a folder); a closed session refuses.
        return Run(root, () => made.Engine.GetItem(DriveNames.ToRestorePath(root))) ? made : null;
    }

    // ---- items

    protected override bool IsValidPath(string path) => !path.Contains('\0');

    // Names on the drive never hold a separator (DriveNames), so paths split as strings: the base
    // class would ask ItemExists of every parent and of every child written, one engine call each.
    protected override string GetChildName(string path)
    {
        string p = path.Replace('\\', '/').TrimEnd('/');
        int slash = p.LastIndexOf('/');
        return slash < 0 ? p : p[(slash + 1)..];
    }

    protected override string GetParentPath(string path, string root)
    {
        string p = path.Replace('\\', '/').TrimEnd('/');
        string r = (root ?? "").Replace('\\', '/').TrimEnd('/');
        if (p.Length == 0 || p == r) return "";
        int slash = p.LastIndexOf('/');
        if (slash < 0) return "";
        return slash == 0 ? "/" : p[..slash];
    }

    protected override bool ItemExists(string path)
    {
        try
        {
            if (EngineOrError(path) is not { } engine) return false;
            engine.GetItem(DriveNames.ToRestorePath(path));
            return true;
        }
        catch (RestoreException ex)
        {
            return Absent(ex, path);
        }
        finally
        {
            FlushWarnings();
        }
    }

    protected override bool IsItemContainer(string path)
    {
        try
        {
            if (EngineOrError(path) is not { } engine) return false;
            return engine.GetItem(DriveNames.ToRestorePath(path)).IsContainer;
        }
        catch (RestoreException ex)
        {
            return Absent(ex, path);
        }
        finally
        {
            FlushWarnings();
        }
    }

    protected override void GetItem(string path)
    {
        Run(path, () =>
        {
            var (item, container) = Lookup(DriveNames.ToRestorePath(path));
            WriteShown(item, DriveNames.Normalize(path), container);
        });
    }

    protected override bool HasChildItems(string path)
    {
        bool any = false;
        Run(path, () =>
        {
            string restorePath = DriveNames.ToRestorePath(path);
            any = Engine.GetItem(restorePath).IsContainer && Engine.List(restorePath).Any();
        });
        return any;
    }

    protected override void GetChildItems(string path, bool recurse) => GetChildItems(path, recurse, uint.MaxValue);

    protected override object GetChildItemsDynamicParameters(string path, bool recurse) => new RestoreChildItemParameters();

    protected override object GetChildNamesDynamicParameters(string path) => new RestoreChildItemParameters();

    protected override void GetChildItems(string path, bool recurse, uint depth)
    {
        var filter = FilterPattern();
        bool showHidden = ShowHidden();
        // A folder's entries first, then its sub-folders, as Get-ChildItem does on FileSystem;
        // only folder paths wait on the stack, never the entries.
        var pending = new Stack<(string ProviderPath, uint Level)>();
        pending.Push((DriveNames.Normalize(path), 0));
        while (pending.Count > 0 && !Stopping)
        {
            var (folder, level) = pending.Pop();
            var subfolders = new List<string>();
            Run(folder, () =>
            {
                foreach (var child in Children(folder))
                {
                    if (Stopping) return;
                    if (Hidden(child, showHidden)) continue;
                    if ((filter is null || filter.IsMatch(child.Name)) && Wanted(child)) WriteShown(child.Item, child.ProviderPath, child.IsContainer);
                    if (recurse && level < depth && child.IsContainer) subfolders.Add(child.ProviderPath);
                }
            });
            for (int i = subfolders.Count - 1; i >= 0; i--) pending.Push((subfolders[i], level + 1));
        }
    }

    /// <summary>
    /// PowerShell's globber hands each wildcard leaf here just before it asks GetChildNames for the
    /// names to match it against: a leaf starting with '.' (.bash*) may then match dot-names, as in
    /// the shell and in RestorePathExpander, and tab completion of ".h" finds ".hidden". Nothing is converted.
    /// </summary>
    protected override bool ConvertPath(string path, string filter, ref string updatedPath, ref string updatedFilter)
    {
        _globLeaf = path;
        return false;
    }

    private string? _globLeaf;

    protected override void GetChildNames(string path, ReturnContainers returnContainers)
    {
        var filter = FilterPattern();
        // A glob leaf starting with '.' (ConvertPath) may match dot-names.
        bool showHidden = _globLeaf?.StartsWith('.') == true || ShowHidden();
        _globLeaf = null;
        Run(path, () =>
        {
            foreach (var child in Children(DriveNames.Normalize(path)))
            {
                if (Stopping) return;
                if (Hidden(child, showHidden)) continue;
                // ReturnAllContainers: containers whatever the filter, so that callers can recurse.
                bool match = ((filter is null || filter.IsMatch(child.Name)) && Wanted(child))
                    || (returnContainers == ReturnContainers.ReturnAllContainers && child.IsContainer);
                if (match) WriteItemObject(child.Name, child.ProviderPath, child.IsContainer);
            }
        });
    }

    // ---- content

    public IContentReader? GetContentReader(string path)
    {
        IContentReader? reader = null;
        Run(path, () => reader = new RestoreContentReader(
            Engine.OpenRead(DriveNames.ToRestorePath(path)), DynamicParameters as RestoreContentReaderParameters));
        return reader;
    }

    public object GetContentReaderDynamicParameters(string path) => new RestoreContentReaderParameters();

    public IContentWriter? GetContentWriter(string path)
    {
        ReadOnly(path, "write content to");
        return null;
    }

    public object? GetContentWriterDynamicParameters(string path) => null;

    public void ClearContent(string path) => ReadOnly(path, "clear the content of");

    public object? ClearContentDynamicParameters(string path) => null;

    // ---- everything that changes: refused

    protected override void NewItem(string path, string itemTypeName, object newItemValue) => ReadOnly(path, "create");

    protected override void RemoveItem(string path, bool recurse) => ReadOnly(path, "remove");

    protected override void RenameItem(string path, string newName) => ReadOnly(path, "rename");

    protected override void CopyItem(string path, string copyPath, bool recurse) =>
        ReadOnly(copyPath, "copy into", "to copy files out use Copy-RestoreItem");

    protected override void MoveItem(string path, string destination) => ReadOnly(path, "move");

    protected override void SetItem(string path, object value) => ReadOnly(path, "set");

    protected override void ClearItem(string path) => ReadOnly(path, "clear");

    // ---- plumbing

    /// <summary>One entry of a listing as the drive shows it.</summary>
    private readonly record struct Child(string Name, string ProviderPath, object Item, bool IsContainer);

    /// <summary>
    /// The entries under a provider path, streamed from engine.List. Disks and buckets come as the
    /// engine's RestoreDisk and RestoreBucket (one GetDisks or GetBuckets per listing), the rest as RestoreItems.
    /// </summary>
    private IEnumerable<Child> Children(string providerPath)
    {
        var engine = Engine;
        Dictionary<string, RestoreDisk>? disks = null;
        Dictionary<string, RestoreBucket>? buckets = null;
        foreach (var item in engine.List(DriveNames.ToRestorePath(providerPath)))
        {
            object shown = item;
            if (item.Type == ItemType.Disk)
            {
                disks ??= ByKey(engine.GetDisks(), d => d.Name);
                if (disks.TryGetValue(item.Name, out var disk)) shown = disk;
            }
            else if (item.Type == ItemType.Bucket)
            {
                buckets ??= ByKey(engine.GetBuckets(DiskOf(item.Path)), b => b.Path);
                if (buckets.TryGetValue(item.Path, out var bucket)) shown = bucket;
            }
            // Symlinks are entries, not containers: a walk goes down folders only, never through a link.
            yield return new Child(DriveNames.Encode(item.Name), DriveNames.Child(providerPath, item.Name), shown, item.IsContainer);
        }
    }

    /// <summary>The object for one path: a disk, a level, a bucket, or an item inside one.</summary>
    private (object Item, bool IsContainer) Lookup(string restorePath)
    {
        var engine = Engine;
        var item = engine.GetItem(restorePath);
        if (item.Type == ItemType.Disk && restorePath.Trim('/').Length > 0)
            return (engine.GetDisks().FirstOrDefault(d => d.Name == item.Name) ?? (object)item, true);
        // A folder may be a bucket's root: the engine's resolver says so, and gives the bucket.
        if (item.Type == ItemType.Directory && engine.Resolve(restorePath) is { Kind: ResolvedKind.Bucket, Bucket: { } bucket })
            return (bucket, true);
        return (item, item.IsContainer);
    }

    /// <summary>
    /// Writes an engine object as a drive item. Its Path becomes the item's PowerShell path, wildcard
    /// characters escaped, so that what binds Path from the pipeline (Get-Content, Select-String,
    /// Copy-RestoreItem) finds this very item on this drive; RestorePath keeps the engine's path.
    /// </summary>
    private void WriteShown(object item, string providerPath, bool container)
    {
        string? restorePath = item switch { RestoreItem i => i.Path, RestoreBucket b => b.Path, _ => null };
        var shown = PSObject.AsPSObject(item);
        if (restorePath is not null)
        {
            // preValidated: the note deliberately hides the record's own Path.
            shown.Properties.Add(new PSNoteProperty("Path", WildcardPattern.Escape(DrivePath(providerPath))), true);
            shown.Properties.Add(new PSNoteProperty("RestorePath", restorePath), true);
            // Piped to a RestoreTools cmdlet, RestorePath binds -LiteralPath and this binds -Session:
            // the item is read through its drive's agent.
            if ((PSDriveInfo as RestoreDriveInfo)?.Session is { } session)
                shown.Properties.Add(new PSNoteProperty(RestoreCmdlet.SessionProperty, session), true);
        }
        WriteItemObject(shown, providerPath, container);
    }

    private static string DiskOf(string restorePath) => restorePath.Split('/', StringSplitOptions.RemoveEmptyEntries)[0];

    private static Dictionary<string, T> ByKey<T>(IEnumerable<T> items, Func<T, string> key)
    {
        var map = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var i in items) map.TryAdd(key(i), i);
        return map;
    }

    /// <summary>
    /// Names starting with '.' are hidden, as Get-ChildItem hides them on Linux, unless -Force or a
    /// -Filter that starts with '.': the same rule as Get-RestoreChildItem's and RestorePathExpander's.
    /// </summary>
    private static bool Hidden(Child child, bool showHidden) => !showHidden && child.Name.StartsWith('.');

    /// <summary>Asked once per listing; tab completion (TabCompletion) sees every name, as it must to complete ".ss".</summary>
    private bool ShowHidden() => Force || Filter?.StartsWith('.') == true || TabCompletion.IsCompleting();

    /// <summary>-File and -Directory: containers or the rest (the walk still goes down every folder).</summary>
    private bool Wanted(Child child) => DynamicParameters is not RestoreChildItemParameters p
        || (!p.File && !p.Directory) || (p.Directory && child.IsContainer) || (p.File && !child.IsContainer);

    private WildcardPattern? FilterPattern() =>
        string.IsNullOrEmpty(Filter) ? null : new WildcardPattern(Filter, WildcardOptions.IgnoreCase);

    /// <summary>
    /// A path that cannot be looked at is not there. When the cause is more than "not found" (a
    /// bucket that does not mount) it is said as a warning: an error here would end a whole
    /// wildcard expansion (PowerShell rethrows it), where the other buckets should still count.
    /// </summary>
    private bool Absent(RestoreException ex, string path)
    {
        if (ex.Code is not (RestoreErrorCode.ItemNotFound or RestoreErrorCode.DiskNotFound or RestoreErrorCode.BucketTypeNotFound
            or RestoreErrorCode.ComponentNotFound or RestoreErrorCode.InvalidPath))
            WriteWarning(ex.Message);
        return false;
    }

    /// <summary>
    /// The drive's engine, or null after writing why there is none (a closed session): said as an
    /// error, so that a path on a closed session's drive is not merely "not found".
    /// </summary>
    private IRestoreEngine? EngineOrError(string path)
    {
        try { return Engine; }
        catch (RestoreException ex)
        {
            WriteError(ErrorMapper.ToErrorRecord(ex, DrivePath(path)));
            return null;
        }
    }

    /// <summary>A provider path as PowerShell takes it: Restore:/disk/... on a drive, RestoreTools::/disk/... without one.</summary>
    private string DrivePath(string path)
    {
        string p = DriveNames.Normalize(path);
        if (PSDriveInfo is not { } drive) return ProviderName + "::" + p;
        string root = DriveNames.Normalize(drive.Root);
        if (root == "/") return drive.Name + ":" + p;
        return p.StartsWith(root + "/", StringComparison.Ordinal) ? drive.Name + ":" + p[root.Length..]
            : p == root ? drive.Name + ":/" : p;
    }

    /// <summary>Runs one path's work; engine and agent failures become non-terminating errors naming the path.</summary>
    private bool Run(string path, Action action)
    {
        try
        {
            action();
            return true;
        }
        catch (RestoreException ex)
        {
            WriteError(ErrorMapper.ToErrorRecord(ex, DrivePath(path)));
        }
        catch (Exception ex) when (ex is Contract.AgentException or HttpRequestException or IOException)
        {
            WriteError(ErrorMapper.FromRemote(ex, DrivePath(path)));
        }
        finally
        {
            FlushWarnings();
        }
        return false;
    }

    private void FlushWarnings()
    {
        foreach (var w in EngineHolder.DrainWarnings()) WriteWarning(w);
    }

    private void ReadOnly(string path, string what, string? hint = null)
    {
        string drive = PSDriveInfo?.Name is { } name ? $"the {name}: drive" : "the RestoreTools provider";
        string message = $"{drive} is read-only: cannot {what} '{DrivePath(path)}'" + (hint is null ? "" : $"; {hint}");
        WriteError(new ErrorRecord(new PSNotSupportedException(message), "ReadOnly", ErrorCategory.PermissionDenied, DrivePath(path)));
    }
}
