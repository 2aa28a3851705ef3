using RestoreTools.Engine.Paths;

namespace RestoreTools.Engine.Export;

/// <summary>
/// Which entries of a tree walk are kept, by name, as Copy-Item's -Include, -Exclude and -Filter
/// pick them: a file (or link, or special file) is kept when its name matches -Filter (if given),
/// one -Include pattern (if any) and no -Exclude pattern. Folders are always walked and kept, so
/// the tree keeps its shape; only the names of what they hold are tested.
/// </summary>
internal sealed class NameFilter
{
    private readonly RestoreWildcard[] _include;
    private readonly RestoreWildcard[] _exclude;
    private readonly RestoreWildcard? _filter;

    private NameFilter(RestoreWildcard[] include, RestoreWildcard[] exclude, RestoreWildcard? filter)
    {
        _include = include;
        _exclude = exclude;
        _filter = filter;
    }

    /// <summary>The options' filter, or null when they name none (everything is kept).</summary>
    public static NameFilter? From(ExportOptionsBase options)
    {
        var include = (options.Include ?? []).Where(p => !string.IsNullOrEmpty(p)).Select(p => RestoreWildcard.Parse(p, ignoreCase: true)).ToArray();
        var exclude = (options.Exclude ?? []).Where(p => !string.IsNullOrEmpty(p)).Select(p => RestoreWildcard.Parse(p, ignoreCase: true)).ToArray();
        var filter = string.IsNullOrEmpty(options.Filter) ? null : RestoreWildcard.Parse(options.Filter, ignoreCase: true);
        return include.Length == 0 && exclude.Length == 0 && filter is null ? null : new NameFilter(include, exclude, filter);
    }

    /// <summary>Whether an entry that is not a folder, named name (its last path segment), is kept.</summary>
    public bool Keeps(string name) =>
        (_filter is null || _filter.IsMatch(name))
        && (_include.Length == 0 || _include.Any(w => w.IsMatch(name)))
        && !_exclude.Any(w => w.IsMatch(name));

    /// <summary>The last segment of a relative path.</summary>
    public static string NameOf(string relativePath) => relativePath[(relativePath.LastIndexOf('/') + 1)..];
}
