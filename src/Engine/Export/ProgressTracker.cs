namespace RestoreTools.Engine.Export;

/// <summary>Counts bytes and entries, and reports at most every 100 ms so progress never slows the copy.</summary>
internal sealed class ProgressTracker(IProgress<TransferProgress>? progress)
{
    private long _lastReport = Environment.TickCount64;
    private string? _current;

    public long Bytes { get; private set; }
    public long Files { get; private set; }
    public long Directories { get; private set; }
    public long Symlinks { get; private set; }
    public List<string> Errors { get; } = [];
    public List<string> Warnings { get; } = [];

    // Paths reach messages and progress in their readable form (NameCodec): raw bytes as \xHH.
    public void Begin(string path) { _current = path; Maybe(); }
    public void AddBytes(long n) { Bytes += n; Maybe(); }
    public void File() { Files++; Maybe(); }
    public void Directory() { Directories++; }
    public void Symlink() { Symlinks++; Files++; }

    public void Error(string path, string reason, ExportOptionsBase options)
    {
        path = Paths.NameCodec.Display(path);
        string text = $"{path}: {reason}";
        if (options.StopOnError) throw new RestoreException(RestoreErrorCode.ReadFailed, text, path);
        Errors.Add(text);
        options.OnError?.Invoke(path, reason);
    }

    /// <summary>Something left out or changed on purpose (a FIFO not created, a setuid bit dropped): said, never silent.</summary>
    public void Warning(string path, string reason, ExportOptionsBase options)
    {
        path = Paths.NameCodec.Display(path);
        Warnings.Add($"{path}: {reason}");
        options.OnWarning?.Invoke(path, reason);
    }

    /// <summary>Free space where an export lands, when known (ExportOptions.SpaceAvailable).</summary>
    public long? Space { get; init; }

    /// <summary>Whether need more bytes still fit in the space left; otherwise the entry's error names the sizes.</summary>
    public bool Fits(string path, long need, string what, ExportOptionsBase options)
    {
        if (Space is not { } space || need <= space - Bytes) return true;
        Error(path, $"needs {need:N0} bytes ({what}) where {Math.Max(0, space - Bytes):N0} are free: not written", options);
        return false;
    }

    public void Done() => progress?.Report(new TransferProgress(Bytes, Files, null));

    public ExportResult Result() => new(Bytes, Files, Directories, Symlinks, Errors, Warnings);

    private void Maybe()
    {
        if (progress is null) return;
        long now = Environment.TickCount64;
        if (now - _lastReport < 100) return;
        _lastReport = now;
        progress.Report(new TransferProgress(Bytes, Files, _current is null ? null : Paths.NameCodec.Display(_current)));
    }
}

/// <summary>A read-only stream that tells the tracker how many bytes passed through it.</summary>
internal sealed class CountingStream(Stream inner, ProgressTracker tracker) : Stream
{
    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));
    public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => Count(await inner.ReadAsync(buffer, ct));
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
    private int Count(int n) { tracker.AddBytes(n); return n; }

    public override bool CanRead => true;
    // TarWriter needs the length up front when the archive goes to a pipe: stay as seekable as the file.
    public override bool CanSeek => inner.CanSeek;
    public override bool CanWrite => false;
    public override long Length => inner.Length;
    public override long Position { get => inner.Position; set => inner.Position = value; }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    protected override void Dispose(bool disposing) { if (disposing) inner.Dispose(); base.Dispose(disposing); }
}
