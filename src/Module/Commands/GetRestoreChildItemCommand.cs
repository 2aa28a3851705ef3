using System.Management.Automation;
using RestoreTools.Engine;
using RestoreTools.Engine.Browsing;

namespace RestoreTools.Module.Commands;

/// <summary>
/// Lists the items at a restore path, as Get-ChildItem does: entries of a folder (a file lists
/// itself), or disks, bucket types and buckets at partial paths, each folder sorted by name;
/// -Recurse walks sub-folders (never symlinks), folder by folder. A -Path with wildcards writes its
/// matches themselves (with -Recurse or -Depth, what is below them), as Get-ChildItem does. Names
/// starting with '.' are hidden, as on Linux, unless -Force or the path names them.
/// </summary>
[Cmdlet(VerbsCommon.Get, "RestoreChildItem", DefaultParameterSetName = LiteralPathParameterSet)]
[OutputType(typeof(RestoreItem))]
public sealed class GetRestoreChildItemCommand : RestoreCmdlet
{
    [Parameter(Position = 0, ParameterSetName = PathParameterSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RestorePathCompleter))]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[] Path { get; set; } = ["/"];

    /// <summary>Paths taken as written: '*', '?', '[' and ']' are parts of names.</summary>
    [Parameter(ParameterSetName = LiteralPathParameterSet, ValueFromPipelineByPropertyName = true)]
    [Alias(LiteralAlias, RestorePathAlias)]
    [ArgumentCompleter(typeof(RestorePathCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? LiteralPath { get; set; }

    /// <summary>Lists names starting with '.' too (hidden on Linux), as Get-ChildItem -Force does.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

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
        bool literal = ParameterSetName == LiteralPathParameterSet;
        foreach (var value in literal ? LiteralPath ?? ["/"] : Path)
        {
            IReadOnlyList<Provider.DriveTarget> targets = [];
            if (!Try(value, () => targets = Targets(value, literal, matchHidden: Force))) continue;
            bool pattern = IsPattern(value, literal);
            foreach (var target in targets) List(target, value, pattern);
        }
    }

    private void List(Provider.DriveTarget target, string shownAs, bool matchOfPattern)
    {
        var engine = target.Engine;
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
        bool recurse = Recurse.IsPresent || MyInvocation.BoundParameters.ContainsKey(nameof(Depth));
        int depth = recurse ? Depth : 0;

        // A match of a wildcard is written itself, as Get-ChildItem writes it; recursing, what is below it.
        if (matchOfPattern && !recurse)
        {
            Try(shownAs, () =>
            {
                var item = target.Item ?? engine.GetItem(target.RestorePath);
                if (Wanted(item)) Write(item, item.Name, target.Session);
            });
            return;
        }

        // Breadth by folder, as Get-ChildItem: a folder's entries first, then its sub-folders.
        // Only folder paths are kept, never the entries themselves.
        string root = target.RestorePath;
        var pending = new Stack<(string Path, int Level)>();
        pending.Push((root, 0));
        bool first = true;
        while (pending.Count > 0)
        {
            var (folder, level) = pending.Pop();
            var subfolders = new List<string>();
            bool isFirst = first;
            first = false;
            Try(isFirst ? shownAs : folder, () =>
            {
                // Sorted by name, as ls lists (a directory's own order is its filesystem's hash order).
                // A folder's entries are held for that; the engine and the agent stream them.
                var items = engine.List(folder, StopToken).ToList();
                items.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
                foreach (var item in items)
                {
                    // Hidden as on Linux: dot-names, and what is below them, unless -Force; but a file
                    // lists itself, and a path the user wrote is shown even when its name is hidden.
                    if (!Force && item.Name.StartsWith('.')
                        && !(isFirst && !item.IsContainer && items.Count == 1 && IsSelf(engine, root, item))) continue;
                    if (Wanted(item)) Write(item, RelativeName(root, item.Path, item.Name), target.Session);
                    // Symlinks are never followed; a file lists itself, so never descend into it.
                    if (level < depth && item.IsContainer && item.Type != ItemType.Symlink && item.Path != folder)
                        subfolders.Add(item.Path);
                }
            });
            for (int i = subfolders.Count - 1; i >= 0; i--) pending.Push((subfolders[i], level + 1));
        }
    }

    private void Write(RestoreItem item, string relativeName, Remote.RestoreSession? session)
    {
        if (Name) WriteObject(relativeName);
        else WriteRestoreObject(item, session);
    }

    /// <summary>Whether the one entry of a listing is the listed path itself (a file lists itself).</summary>
    private static bool IsSelf(IRestoreEngine engine, string root, RestoreItem item) =>
        engine.GetItem(root) is { IsContainer: false } self && self.Path == item.Path;

    /// <summary>An entry's path below the listed folder (its name at the first level), as Get-ChildItem -Name writes it.</summary>
    private static string RelativeName(string listed, string itemPath, string name)
    {
        string root = listed.TrimEnd('/') + "/";
        return itemPath.StartsWith(root, StringComparison.Ordinal) ? itemPath[root.Length..] : name;
    }
}
