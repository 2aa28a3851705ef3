using System.Management.Automation;
using System.Text;
using RestoreTools.Engine;

namespace RestoreTools.Module.Commands;

/// <summary>
/// Reads a file inside an image through engine.OpenRead, as Get-Content does: lines (streamed),
/// one string with -Raw, or bytes with -AsByteStream. -TotalCount stops early (lines or bytes).
/// </summary>
[Cmdlet(VerbsCommon.Get, "RestoreContent")]
[OutputType(typeof(string), typeof(byte), typeof(byte[]))]
public sealed class GetRestoreContentCommand : RestoreCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RestorePathCompleter))]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter]
    public SwitchParameter Raw { get; set; }

    [Parameter]
    public SwitchParameter AsByteStream { get; set; }

    [Parameter]
    [Alias("First", "Head")]
    [ValidateRange(-1, long.MaxValue)]
    public long TotalCount { get; set; } = -1;

    [Parameter]
    [EncodingTransformation]
    [ArgumentCompleter(typeof(EncodingCompleter))]
    public Encoding Encoding { get; set; } = new UTF8Encoding(false);

    protected override void ProcessRecord()
    {
        Try(Path, () =>
        {
            try
            {
                if (AsByteStream) ReadBytes();
                else if (Raw) ReadRaw();
                else ReadLines();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new RestoreException(RestoreErrorCode.ReadFailed, $"reading '{Path}' failed: {ex.Message}", Path, ex);
            }
        });
    }

    private void ReadBytes()
    {
        long? length = TotalCount >= 0 ? TotalCount : null;
        using var stream = Engine.OpenRead(Path, 0, length);
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
        using var reader = new StreamReader(Engine.OpenRead(Path), Encoding, detectEncodingFromByteOrderMarks: true);
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
        using var reader = new StreamReader(Engine.OpenRead(Path), Encoding, detectEncodingFromByteOrderMarks: true);
        long count = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            WriteObject(line);
            if (TotalCount >= 0 && ++count >= TotalCount) break;
        }
    }
}
