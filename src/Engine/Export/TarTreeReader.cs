using System.Formats.Tar;
using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Export;

/// <summary>
/// Reads an export tar back as tree entries, so that a copy from a remote agent goes through the
/// same LocalCopier as a local one (links kept as links, nothing overwritten without Force, no
/// writing through an existing link). Entries are streamed: each file's data is read in turn.
/// </summary>
internal static class TarTreeReader
{
    /// <param name="rootName">The item's name when the archive holds it as its top folder (a folder or file
    /// export), or "" when the archive holds a bucket's entries at its top.</param>
    public static IEnumerable<TreeEntry> Read(Stream tar, string rootName, CancellationToken ct)
    {
        using var reader = new TarReader(tar);
        if (rootName.Length == 0)
        {
            // A bucket root has no entry of its own in the archive: the copy's root folder is made plain.
            yield return new TreeEntry("", "", new Stat.Info(Stat.Kind.Directory, 0x1ED /* 0755 */, 0, 0, 0,
                DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 0), null);
        }
        while (reader.GetNextEntry() is { } entry)
        {
            ct.ThrowIfCancellationRequested();
            string name = entry.Name.TrimEnd('/');
            string rel;
            if (rootName.Length == 0) rel = name;
            else if (name == rootName) rel = "";
            else if (name.StartsWith(rootName + "/", StringComparison.Ordinal)) rel = name[(rootName.Length + 1)..];
            else throw new InvalidDataException($"archive entry '{entry.Name}' is outside '{rootName}'");
            // The archive comes over the network: a name that climbs out of the copy is refused.
            if (rel.Split('/').Any(seg => seg is ".." or "." ) || rel.StartsWith('/'))
                throw new InvalidDataException($"archive entry '{entry.Name}' has an unsafe name");

            var kind = entry.EntryType switch
            {
                TarEntryType.Directory => Stat.Kind.Directory,
                TarEntryType.SymbolicLink => Stat.Kind.Symlink,
                TarEntryType.RegularFile or TarEntryType.V7RegularFile => Stat.Kind.File,
                TarEntryType.Fifo => Stat.Kind.Fifo,
                TarEntryType.BlockDevice => Stat.Kind.BlockDevice,
                TarEntryType.CharacterDevice => Stat.Kind.CharDevice,
                _ => Stat.Kind.Other,
            };
            var mtime = entry.ModificationTime;
            var info = new Stat.Info(kind, (int)entry.Mode & 0xFFF, entry.Uid, entry.Gid, entry.Length,
                mtime.ToUnixTimeSeconds(), (mtime.UtcTicks % TimeSpan.TicksPerSecond) * 100);
            var data = entry.DataStream;
            yield return new TreeEntry(rel, "", info, kind == Stat.Kind.Symlink ? entry.LinkName : null,
                () => data is null ? Stream.Null : new NonDisposingReadStream(data));
        }
    }

    /// <summary>The tar reader owns each entry's data stream; the copier must not close it.</summary>
    private sealed class NonDisposingReadStream(Stream inner) : Stream
    {
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
