using RestoreTools.Engine.Paths;

namespace RestoreTools.Engine.Export;

/// <summary>
/// The rules of a several-item export, checked before a byte is written, by the local engine and
/// by the remote client alike: at least one item, raw only for one, and one name per item at the
/// archive's top (two items named hosts would be two entries one extract overwrites with the other).
/// </summary>
public static class ExportRoots
{
    public static void CheckCount(int count, ExportFormat format)
    {
        if (count == 0)
            throw new RestoreException(RestoreErrorCode.InvalidPath, "no restore path to export");
        if (format == ExportFormat.Raw && count > 1)
            throw new RestoreException(RestoreErrorCode.NotSupported, $"raw export takes one file, not {count} items: use tar or zip for several");
    }

    /// <summary>Refuses two items that would have one name at the archive's top (names compared exactly, as tar does).</summary>
    public static void CheckNames(IEnumerable<(string Name, string RestorePath)> roots)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, path) in roots)
        {
            if (!seen.TryAdd(name, path))
                throw new RestoreException(RestoreErrorCode.NameInUse,
                    seen[name] == path
                        ? $"'{path}' is given twice: each item goes into the archive once"
                        : $"'{seen[name]}' and '{path}' would both be '{NameCodec.Display(name)}' at the archive's top: export them to separate archives, or export a folder that holds both",
                    path);
        }
    }
}
