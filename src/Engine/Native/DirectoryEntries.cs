namespace RestoreTools.Engine.Native;

/// <summary>
/// The names in a folder, read with getdents64 as the caller iterates (constant memory for any
/// folder size). Opened through PathAt, so a folder deeper than PATH_MAX is read like any other,
/// and with O_NOFOLLOW, so a symlink given as the folder is never read through.
/// </summary>
public static class DirectoryEntries
{
    /// <summary>One name of a folder: its bytes as the filesystem holds them, and the engine's string for them (NameCodec).</summary>
    public readonly record struct Name(byte[] Bytes, string Text);

    /// <summary>Lazy: the folder is opened at the first MoveNext (and its open error thrown there), closed at Dispose.</summary>
    public static IEnumerable<Name> Read(string path)
    {
        using var folder = OpenFolder.Open(path);
        foreach (var name in folder.Names()) yield return name;
    }
}
