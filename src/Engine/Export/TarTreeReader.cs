using System.Globalization;
using RestoreTools.Engine.Native;
using RestoreTools.Engine.Paths;

namespace RestoreTools.Engine.Export;

/// <summary>
/// Reads an export tar back as tree entries, so that a copy from a remote agent goes through the
/// same SafeTreeWriter as a local one. The archive comes from an agent that may be a compromised
/// guest: every name, link, size and map in it is checked, and anything malformed ends the copy
/// with InvalidDataException. GNU sparse 1.0 entries come back as data runs, so holes stay holes.
/// </summary>
internal static class TarTreeReader
{
    /// <summary>Most runs a sparse map may list (each is two numbers in the archive).</summary>
    private const int MaxSparseRuns = 1 << 20;

    /// <param name="rootName">The item's name when the archive holds it as its top folder (a folder or file
    /// export), or "" when the archive holds a bucket's entries at its top.</param>
    public static IEnumerable<TreeEntry> Read(Stream tar, string rootName, CancellationToken ct)
    {
        var reader = new TarStreamReader(tar);
        if (rootName.Length == 0)
        {
            // A bucket root has no entry of its own in the archive: the copy's root folder is made plain.
            yield return new TreeEntry("", "", new Stat.Info(Stat.Kind.Directory, 0x1ED /* 0755 */, 0, 0, 0,
                DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 0), null);
        }
        while (reader.Next() is { } entry)
        {
            ct.ThrowIfCancellationRequested();
            var attrs = entry.Pax;
            bool sparse = attrs.TryGetValue("GNU.sparse.major", out var major) && major == "1";
            string name = sparse ? attrs.GetValueOrDefault("GNU.sparse.name") ?? throw Bad(entry.Name, "a sparse entry without GNU.sparse.name") : entry.Name;
            string rel = Relative(name, rootName);

            var kind = entry.Type switch
            {
                '5' => Stat.Kind.Directory,
                '2' => Stat.Kind.Symlink,
                '0' or '7' or '1' => Stat.Kind.File,
                '6' => Stat.Kind.Fifo,
                '4' => Stat.Kind.BlockDevice,
                '3' => Stat.Kind.CharDevice,
                _ => Stat.Kind.Other,
            };
            // A name ending in '/' is a folder in old archives too.
            if (entry.Type == '0' && entry.Name.EndsWith('/')) kind = Stat.Kind.Directory;
            string? link = entry.Type switch
            {
                '2' => entry.LinkName,
                // A target outside the copy is kept as it is: the writer links only to files it wrote, and names this one.
                '1' => TryRelative(entry.LinkName, rootName) ?? entry.LinkName,
                _ => null,
            };
            long size = entry.Size;
            FileData? data = null;
            if (kind == Stat.Kind.File && entry.Type != '1')
                data = sparse ? Sparse(entry, name, out size) : new FileData(entry.Data, null, entry.Size);
            var mtime = entry.Mtime;
            var info = new Stat.Info(kind, entry.Mode, entry.Uid, entry.Gid, kind == Stat.Kind.File ? size : 0,
                mtime.ToUnixTimeSeconds(), (mtime.UtcTicks % TimeSpan.TicksPerSecond) * 100);
            var xattrs = attrs.Where(a => a.Key.StartsWith("SCHILY.xattr.", StringComparison.Ordinal) && a.Key.Length > 13)
                .Select(a => (a.Key[13..], NameCodec.Encode(a.Value))).ToList();
            yield return new TreeEntry(rel, "", info, link, data is null ? () => new FileData(Stream.Null, null, 0) : () => data,
                IsHardLink: entry.Type == '1') { Xattrs = xattrs.Count > 0 ? xattrs : null };
        }
    }

    /// <summary>The entry's path below the copy's root; names that climb out or start at / are refused.</summary>
    private static string Relative(string archiveName, string rootName)
    {
        string name = archiveName.TrimEnd('/');
        if (name.Contains('\0')) throw Bad(archiveName, "a NUL in the name");
        string rel;
        if (rootName.Length == 0) rel = name;
        else if (name == rootName) rel = "";
        else if (name.StartsWith(rootName + "/", StringComparison.Ordinal)) rel = name[(rootName.Length + 1)..];
        else throw new InvalidDataException($"archive entry '{archiveName}' is outside '{rootName}'");
        if (rel.StartsWith('/') || (rel.Length > 0 && rel.Split('/').Any(seg => seg is ".." or "." or "")))
            throw Bad(archiveName, "an unsafe name");
        return rel;
    }

    private static string? TryRelative(string archiveName, string rootName)
    {
        try { return Relative(archiveName, rootName); }
        catch (InvalidDataException) { return null; }
    }

    private static InvalidDataException Bad(string name, string what) => new($"archive entry '{name}' has {what}");

    /// <summary>Parses a GNU sparse 1.0 map at the start of the entry's data and checks it against the sizes.</summary>
    private static FileData Sparse(TarStreamReader.Entry entry, string name, out long realSize)
    {
        var attrs = entry.Pax;
        if (attrs.GetValueOrDefault("GNU.sparse.minor") != "0")
            throw Bad(name, "a sparse format other than 1.0");
        if (!long.TryParse(attrs.GetValueOrDefault("GNU.sparse.realsize"), NumberStyles.None, CultureInfo.InvariantCulture, out realSize))
            throw Bad(name, "no valid GNU.sparse.realsize");
        var body = entry.Data;
        long consumed = 0;
        long ReadNumber()
        {
            long value = 0;
            int digits = 0;
            while (true)
            {
                int b = body.ReadByte();
                consumed++;
                if (b < 0) throw Bad(name, "a sparse map cut short");
                if (b == '\n' && digits > 0) return value;
                if (b is < '0' or > '9' || ++digits > 18) throw Bad(name, "a malformed sparse map");
                value = value * 10 + (b - '0');
            }
        }
        long count = ReadNumber();
        if (count > MaxSparseRuns) throw Bad(name, $"a sparse map of {count} runs (at most {MaxSparseRuns})");
        var map = new List<(long, long)>((int)count);
        long end = 0, data = 0;
        for (long i = 0; i < count; i++)
        {
            long offset = ReadNumber(), length = ReadNumber();
            if (offset < end || length > realSize - offset) throw Bad(name, "a sparse map with runs out of order or past its size");
            end = offset + length;
            data += length;
            if (length > 0) map.Add((offset, length));
        }
        long padded = (consumed + 511) / 512 * 512;
        for (long i = consumed; i < padded; i++)
            if (body.ReadByte() < 0) throw Bad(name, "a sparse map cut short");
        if (padded + data != entry.Size) throw Bad(name, $"a sparse map of {data:N0} data bytes in {entry.Size - padded:N0}");
        return new FileData(body, map, realSize); // the map bounds what is read of it
    }
}
