using System.Management.Automation;
using RestoreTools.Engine;
using RestoreTools.Engine.Browsing;

namespace RestoreTools.Module.Commands;

/// <summary>
/// Lists the items at a restore path, as Get-ChildItem does: entries of a folder (a file lists
/// itself), or disks, bucket types and buckets at partial paths, each folder sorted by name;
/// -Recurse walks sub-folders (never symlinks), folder by folder.
/// </summary>
[Cmdlet(VerbsCommon.Get, "RestoreChildItem")]
[OutputType(typeof(RestoreItem))]
public sealed class GetRestoreChildItemCommand : RestoreCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RestorePathCompleter))]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "/";

    [Parameter]
    public SwitchParameter Recurse { get; set; }

    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int Depth { get; set; } = int.MaxValue;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Filter { get; set; }

    /// <summary>Only entries whose name matches one of these wildcards (as Get-ChildItem -Include).</summary>
    [Parameter]
    [SupportsWildcards]
    public string[]? Include { get; set; }

    /// <summary>Leaves out entries whose name matches one of these wildcards.</summary>
    [Parameter]
    [SupportsWildcards]
    public string[]? Exclude { get; set; }

    /// <summary>Only entries that are not folders (files, links, devices).</summary>
    [Parameter]
    public SwitchParameter File { get; set; }

    /// <summary>Only folders.</summary>
    [Parameter]
    public SwitchParameter Directory { get; set; }

    /// <summary>Writes names (relative to the listed folder, as Get-ChildItem -Name) instead of items.</summary>
    [Parameter]
    public SwitchParameter Name { get; set; }

    protected override void ProcessRecord()
    {
        var pattern = Filter is null ? null : new WildcardPattern(Filter, WildcardOptions.IgnoreCase);
        var include = Include?.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToList();
        var exclude = Exclude?.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToList();
        bool Wanted(RestoreItem item) =>
            (pattern is null || pattern.IsMatch(item.Name))
            && (include is null || include.Any(w => w.IsMatch(item.Name)))
            && (exclude is null || !exclude.Any(w => w.IsMatch(item.Name)))
            && (!File || !item.IsContainer)
            && (!Directory || item.IsContainer && item.Type != ItemType.Symlink);
        // -Depth implies -Recurse, as with Get-ChildItem.
        int depth = Recurse.IsPresent || MyInvocation.BoundParameters.ContainsKey(nameof(Depth)) ? Depth : 0;

        // Breadth by folder, as Get-ChildItem: a folder's entries first, then its sub-folders.
        // Only folder paths are kept, never the entries themselves.
        var pending = new Stack<(string Path, int Level)>();
        pending.Push((Path, 0));
        bool first = true;
        while (pending.Count > 0)
        {
            var (folder, level) = pending.Pop();
            var subfolders = new List<string>();
            bool isFirst = first;
            first = false;
            Try(isFirst ? Path : folder, () =>
            {
                // Sorted by name, as ls lists (a directory's own order is its filesystem's hash order).
                // A folder's entries are held for that; the engine and the agent stream them.
                var items = Engine.List(folder, StopToken).ToList();
                items.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
                foreach (var item in items)
                {
                    if (Wanted(item))
                    {
                        if (Name) WriteObject(RelativeName(item.Path, item.Name));
                        else WriteRestoreObject(item);
                    }
                    // Symlinks are never followed; a file lists itself, so never descend into it.
                    if (level < depth && item.IsContainer && item.Type != ItemType.Symlink && item.Path != folder)
                        subfolders.Add(item.Path);
                }
            });
            for (int i = subfolders.Count - 1; i >= 0; i--) pending.Push((subfolders[i], level + 1));
        }
    }

    /// <summary>An entry's path below the listed folder (its name at the first level), as Get-ChildItem -Name writes it.</summary>
    private string RelativeName(string itemPath, string name)
    {
        string root = Path.TrimEnd('/') + "/";
        return itemPath.StartsWith(root, StringComparison.Ordinal) ? itemPath[root.Length..] : name;
    }
}
