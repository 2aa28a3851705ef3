using RestoreTools.Engine.Native;

namespace RestoreTools.Engine.Export;

/// <summary>
/// A file's contents as every writer takes them: the data runs back to back in Packed, and Map
/// says where each run lies in a file of Size bytes. A dense file has no map (one run, all of it);
/// a sparse one (a 1 TB file holding a few KB) keeps its holes out of every copy and tar.
/// </summary>
internal sealed class FileData(Stream packed, IReadOnlyList<(long Offset, long Length)>? map, long size) : IDisposable
{
    public Stream Packed { get; } = packed;
    public IReadOnlyList<(long Offset, long Length)>? Map { get; } = map;
    public long Size { get; } = size;

    /// <summary>Bytes that carry data: what a copy or a sparse tar writes.</summary>
    public long DataLength => Map is null ? Size : Map.Sum(s => s.Length);

    public bool IsSparse => Map is not null && DataLength < Size;

    /// <summary>Opens a file of a mounted filesystem, asking for its data runs only when its blocks say it has holes.</summary>
    public static FileData FromLocal(string path, Stat.Info info) => FromOpened(Files.OpenRead(path, info.Size), info);

    /// <summary>As FromLocal, for a file opened already (by the read-ahead window); takes the stream.</summary>
    public static FileData FromOpened(Stream stream, Stat.Info info)
    {
        if (!info.MayBeSparse || stream is not ReadOnlyFileStream file) return new FileData(stream, null, info.Size);
        try
        {
            var map = file.DataSegments();
            return new FileData(new SegmentStream(file, map), map, info.Size);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>The whole file with its holes as zeros, for formats that cannot hold holes (zip, raw).</summary>
    public Stream Dense() => Map is null ? Packed : new HoleFillingStream(Packed, Map, Size);

    public void Dispose() => Packed.Dispose();
}

/// <summary>Reads a seekable file's data runs one after another.</summary>
internal sealed class SegmentStream(Stream file, IReadOnlyList<(long Offset, long Length)> map) : ReadOnlyStream
{
    private int _index;
    private long _inRun;

    public override long Length { get; } = map.Sum(s => s.Length);

    public override int Read(Span<byte> buffer)
    {
        while (_index < map.Count && _inRun >= map[_index].Length) { _index++; _inRun = 0; }
        if (_index >= map.Count || buffer.Length == 0) return 0;
        var (offset, length) = map[_index];
        file.Position = offset + _inRun;
        int n = file.Read(buffer[..(int)Math.Min(buffer.Length, length - _inRun)]);
        if (n == 0) throw new IOException("the file ended inside one of its data runs");
        _inRun += n;
        return n;
    }

    protected override void Dispose(bool disposing) { if (disposing) file.Dispose(); base.Dispose(disposing); }
}

/// <summary>Expands packed data runs back into the whole file, zeros in the holes.</summary>
internal sealed class HoleFillingStream(Stream packed, IReadOnlyList<(long Offset, long Length)> map, long size) : ReadOnlyStream
{
    private long _pos;
    private int _index;

    public override long Length => size;

    public override int Read(Span<byte> buffer)
    {
        if (_pos >= size || buffer.Length == 0) return 0;
        while (_index < map.Count && _pos >= map[_index].Offset + map[_index].Length) _index++;
        long want = Math.Min(buffer.Length, size - _pos);
        int n;
        if (_index < map.Count && _pos >= map[_index].Offset)
        {
            n = packed.Read(buffer[..(int)Math.Min(want, map[_index].Offset + map[_index].Length - _pos)]);
            if (n == 0) throw new IOException("the data ended before its map did");
        }
        else
        {
            long holeEnd = _index < map.Count ? map[_index].Offset : size;
            n = (int)Math.Min(want, holeEnd - _pos);
            buffer[..n].Clear();
        }
        _pos += n;
        return n;
    }

    protected override void Dispose(bool disposing) { if (disposing) packed.Dispose(); base.Dispose(disposing); }
}

/// <summary>A forward-only read stream of known length (what TarWriter needs of an entry's data).</summary>
internal abstract class ReadOnlyStream : Stream
{
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
