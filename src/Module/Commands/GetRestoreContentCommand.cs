using System.Management.Automation;
using System.Text;
using RestoreTools.Engine;

namespace RestoreTools.Module.Commands;

/// <summary>
/// Reads a file inside an image through engine.OpenRead, as Get-Content does: lines (streamed),
/// one string with -Raw, or bytes with -AsByteStream. -TotalCount stops early (lines or bytes).
/// </summary>
[Cmdlet(VerbsCommon.Get, "RestoreContent", DefaultParameterSetName = LiteralPathParameterSet)]
[OutputType(typeof(string), typeof(byte), typeof(byte[]))]
public sealed class GetRestoreContentCommand : RestoreCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathParameterSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RestorePathCompleter))]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[] Path { get; set; } = [];

    /// <summary>Paths taken as written: '*', '?', '[' and ']' are parts of names.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathParameterSet, ValueFromPipelineByPropertyName = true)]
    [Alias(LiteralAlias, RestorePathAlias)]
    [ArgumentCompleter(typeof(RestorePathCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = [];

    // The file being read: one match of one value at a time.
    private IRestoreEngine _engine = null!;
    private string _path = "";

    [Parameter]
    public SwitchParameter Raw { get; set; }

    [Parameter]
    public SwitchParameter AsByteStream { get; set; }

    [Parameter]
    [Alias("First", "Head")]
    [ValidateRange(-1, long.MaxValue)]
    public long TotalCount { get; set; } = -1;

    /// <summary>The last lines only, read from the end of the file (a long log is not read whole).</summary>
    [Parameter]
    [Alias("Last")]
    [ValidateRange(0, int.MaxValue)]
    public int Tail { get; set; } = -1;

    [Parameter]
    [EncodingTransformation]
    [ArgumentCompleter(typeof(EncodingCompleter))]
    public Encoding Encoding { get; set; } = new UTF8Encoding(false);

    protected override void ProcessRecord()
    {
        foreach (var (t, shown) in EachTarget(Path, LiteralPath)) Read(t.Engine, t.RestorePath, shown);
    }

    private void Read(IRestoreEngine engine, string path, string shown)
    {
        _engine = engine;
        _path = path;
        Try(shown, () =>
        {
            try
            {
                if (Tail >= 0 && (AsByteStream || TotalCount >= 0))
                    throw new RestoreException(RestoreErrorCode.NotSupported, "-Tail takes lines: it goes with neither -AsByteStream nor -TotalCount", shown);
                if (Tail >= 0) ReadTail();
                else if (AsByteStream) ReadBytes();
                else if (Raw) ReadRaw();
                else ReadLines();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new RestoreException(RestoreErrorCode.ReadFailed, $"reading '{shown}' failed: {ex.Message}", shown, ex);
            }
        });
    }

    private void ReadBytes()
    {
        long? length = TotalCount >= 0 ? TotalCount : null;
        using var stream = _engine.OpenRead(_path, 0, length);
        if (Raw)
        {
            var ms = new MemoryStream();
            stream.CopyTo(ms);
            WriteObject(ms.ToArray());
            return;
        }
        var buffer = new byte[1 << 16];
        int n;
        while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            for (int i = 0; i < n; i++) WriteObject(buffer[i]);
        }
    }

    private void ReadRaw()
    {
        using var reader = new StreamReader(_engine.OpenRead(_path), Encoding, detectEncodingFromByteOrderMarks: true);
        if (TotalCount < 0)
        {
            WriteObject(reader.ReadToEnd());
            return;
        }
        // The first TotalCount lines with their line ends, as one string.
        var text = new StringBuilder();
        long lines = 0;
        int c;
        while (lines < TotalCount && (c = reader.Read()) >= 0)
        {
            text.Append((char)c);
            if (c == '\n') lines++;
        }
        WriteObject(text.ToString());
    }

    private void ReadLines()
    {
        if (TotalCount == 0) return;
        using var reader = new StreamReader(_engine.OpenRead(_path), Encoding, detectEncodingFromByteOrderMarks: true);
        long count = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            WriteObject(line);
            if (TotalCount >= 0 && ++count >= TotalCount) break;
        }
    }

    private void ReadTail()
    {
        if (Tail == 0) return;
        var lines = SingleByteNewline(Encoding) ? TailFromEnd() : TailByReading();
        if (Raw) WriteObject(string.Concat(lines.Select(l => l + "\n")));
        else foreach (var line in lines) WriteObject(line);
    }

    /// <summary>Encodings whose '\n' is the byte 0x0A and never part of another character: the end can be searched in bytes.</summary>
    private static bool SingleByteNewline(Encoding e) => e.CodePage is 65001 or 20127 or 28591 or 1252;

    /// <summary>
    /// Reads 64 KiB blocks backwards from the end until Tail line ends are behind the reading point,
    /// then decodes just that much: a gigabyte log through a restore VM gives its last lines at once.
    /// </summary>
    private List<string> TailFromEnd()
    {
        long size = _engine.GetItem(_path).Size;
        const int Block = 1 << 16;
        var tail = new List<byte[]>();
        long position = size, newlines = 0;
        bool endsWithNewline = false, first = true;
        while (position > 0)
        {
            int n = (int)Math.Min(Block, position);
            position -= n;
            using var stream = _engine.OpenRead(_path, position, n);
            var block = new byte[n];
            int read = 0;
            while (read < n && stream.Read(block, read, n - read) is > 0 and var got) read += got;
            if (read < n) block = block[..read];
            tail.Insert(0, block);
            for (int i = block.Length - 1; i >= 0; i--)
            {
                if (block[i] != (byte)'\n') continue;
                // The file's own last line end closes its last line; it does not start another one.
                if (first && position + i == size - 1) { endsWithNewline = true; continue; }
                newlines++;
            }
            first = false;
            if (newlines >= Tail) break;
        }
        var bytes = tail.SelectMany(b => b).ToArray();
        var text = Encoding.GetString(bytes);
        if (position == 0 && text.StartsWith('\uFEFF')) text = text[1..]; // a UTF-8 byte order mark is not text
        var lines = text.Split('\n').Select(l => l.EndsWith('\r') ? l[..^1] : l).ToList();
        if (endsWithNewline && lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines.Count > Tail ? lines.GetRange(lines.Count - Tail, Tail) : lines;
    }

    /// <summary>Other encodings (UTF-16, UTF-32): read forward, keeping the last Tail lines.</summary>
    private List<string> TailByReading()
    {
        var last = new Queue<string>();
        using var reader = new StreamReader(_engine.OpenRead(_path), Encoding, detectEncodingFromByteOrderMarks: true);
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            last.Enqueue(line);
            if (last.Count > Tail) last.Dequeue();
        }
        return [.. last];
    }
}
