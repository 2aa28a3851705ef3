using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Export;

/// <summary>
/// A copy without its folders (Copy-Item -Container:$false): every file and link of the tree lands
/// under its own name directly in the copy's root, and no folder below it is made. Two entries with
/// one name: the first is written, the later one is an error and never written, even with Force
/// (which replaces only what was there before the copy). The names already used are remembered, so
/// memory grows with the number of files, as the flat folder itself does.
/// </summary>
internal static class FlatCopy
{
    public static IEnumerable<TreeEntry> Flatten(IEnumerable<TreeEntry> entries, ProgressTracker tracker, CopyOptions options)
    {
        var taken = new Dictionary<string, string>(StringComparer.Ordinal); // flat name → the entry it came from
        foreach (var e in entries)
        {
            if (e.RelativePath.Length == 0) { yield return e; continue; } // the root: the destination folder
            if (e.Info.Kind == Stat.Kind.Directory) continue;
            string name = NameFilter.NameOf(e.RelativePath);
            if (taken.TryGetValue(name, out var first))
            {
                tracker.Error(e.RelativePath, $"'{Paths.NameCodec.Display(name)}' is already copied from '{Paths.NameCodec.Display(first)}' (-Container:$false puts every file in one folder): not written", options);
                continue;
            }
            var flat = e with { RelativePath = name };
            if (e.IsHardLink)
            {
                string target = e.LinkTarget ?? "";
                string targetName = NameFilter.NameOf(target);
                if (taken.TryGetValue(targetName, out var from) && from == target) flat = flat with { LinkTarget = targetName };
                // Its first name was not copied under its own name: a local file is copied again, an archive's link names nothing.
                else if (e.LocalPath.Length > 0) flat = flat with { LinkTarget = null, IsHardLink = false };
                else
                {
                    tracker.Error(e.RelativePath, $"hard link to '{Paths.NameCodec.Display(target)}', which this flat copy did not write: not made", options);
                    continue;
                }
            }
            taken[name] = e.RelativePath;
            yield return flat;
        }
    }
}
