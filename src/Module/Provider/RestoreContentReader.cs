using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Provider;
using System.Text;

namespace RestoreTools.Module.Provider;

/// <summary>Get-Content's parameters on a Restore: drive, as the FileSystem provider names them.</summary>
public sealed class RestoreContentReaderParameters
{
    /// <summary>The file's text encoding (a byte order mark wins); UTF-8 by default.</summary>
    [Parameter]
    [EncodingTransformation]
    [ArgumentCompleter(typeof(EncodingCompleter))]
    public Encoding Encoding { get; set; } = new UTF8Encoding(false);

    /// <summary>Bytes instead of text.</summary>
    [Parameter]
    public SwitchParameter AsByteStream { get; set; }

    /// <summary>The whole file as one string (or one byte array with -AsByteStream).</summary>
    [Parameter]
    public SwitchParameter Raw { get; set; }
}

/// <summary>
/// Get-Content on a Restore: drive: reads the stream engine.OpenRead gives, ReadCount lines
/// (or bytes) at a time, so a large file is never held whole unless -Raw asks for it.
/// </summary>
internal sealed class RestoreContentReader : IContentReader
{
    private readonly Stream _stream;
    private readonly StreamReader? _text;
    private readonly bool _bytes;
    private readonly bool _raw;
    private bool _rawDone;

    public RestoreContentReader(Stream stream, RestoreContentReaderParameters? parameters)
    {
        _bytes = parameters?.AsByteStream.IsPresent == true;
        // Byte by byte reads go through a buffer, not one engine read each.
        _stream = _bytes ? new BufferedStream(stream, 1 << 16) : stream;
        _raw = parameters?.Raw.IsPresent == true;
        if (!_bytes)
            _text = new StreamReader(stream, parameters?.Encoding ?? new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true);
    }

    public IList Read(long readCount)
    {
        var results = new List<object>();
        if (_raw)
        {
            // One object for the whole file, then the end.
            if (_rawDone) return results;
            _rawDone = true;
            if (_bytes)
            {
                var ms = new MemoryStream();
                _stream.CopyTo(ms);
                results.Add(ms.ToArray());
            }
            else results.Add(_text!.ReadToEnd());
            return results;
        }
        long want = readCount <= 0 ? long.MaxValue : readCount;
        if (_bytes)
        {
            int b;
            while (results.Count < want && (b = _stream.ReadByte()) >= 0) results.Add((byte)b);
            return results;
        }
        string? line;
        while (results.Count < want && (line = _text!.ReadLine()) is not null) results.Add(line);
        return results;
    }

    public void Seek(long offset, SeekOrigin origin)
    {
        _stream.Seek(offset, origin);
        _text?.DiscardBufferedData();
    }

    public void Close() => Dispose();

    public void Dispose()
    {
        _text?.Dispose();
        _stream.Dispose();
    }
}
