using System.Collections.Concurrent;
using System.Management.Automation;
using RestoreTools.Engine;
using RestoreTools.Engine.Export;

namespace RestoreTools.Module;

/// <summary>
/// Runs one engine transfer (copy or export) on a worker task and pumps what it reports onto the
/// cmdlet's own thread: progress records (the engine's IProgress callback comes on the worker)
/// and per-entry errors. WriteProgress and WriteError may only be called from the pipeline thread,
/// so the worker only stores into thread-safe fields and this loop writes them.
/// </summary>
internal sealed class TransferPump : IProgress<TransferProgress>
{
    private static int nextActivityId = 1000;

    private readonly PSCmdlet _cmdlet;
    private readonly string _activity;
    private readonly string _status;
    private readonly long? _bytesTotal;
    private readonly int _activityId = Interlocked.Increment(ref nextActivityId);
    private readonly ConcurrentQueue<(string Path, string Reason)> _errors = new();
    private readonly ConcurrentQueue<(string Path, string Reason)> _warnings = new();
    private TransferProgress? _latest;
    private bool _wroteProgress;

    public TransferPump(PSCmdlet cmdlet, string activity, string status, long? bytesTotal)
    {
        _cmdlet = cmdlet;
        _activity = activity;
        _status = status;
        _bytesTotal = bytesTotal;
    }

    /// <summary>Called by the engine on its thread: only remember the latest report.</summary>
    public void Report(TransferProgress value) => Interlocked.Exchange(ref _latest, value);

    /// <summary>Called by the engine on its thread for each entry it could not transfer.</summary>
    public void OnError(string path, string reason) => _errors.Enqueue((path, reason));

    /// <summary>Called by the engine on its thread for each entry left out or changed on purpose (a FIFO, a setuid bit).</summary>
    public void OnWarning(string path, string reason) => _warnings.Enqueue((path, reason));

    /// <summary>The restore path that warnings name their entries under.</summary>
    public string? RootPath { get; init; }

    /// <summary>The restore path of an entry named relative to the transfer (several roots: each under its own name); RootPath's when null.</summary>
    public Func<string, string>? Locate { get; init; }

    /// <summary>
    /// Runs work on a task; until it completes, writes progress and errors from this thread.
    /// Rethrows what the work threw (a RestoreException stays one); a stop becomes PipelineStoppedException.
    /// </summary>
    public ExportResult Run(Func<CancellationToken, ExportResult> work, CancellationToken cancellationToken,
        Action<string, string> writeError)
    {
        var task = Task.Run(() => work(cancellationToken), cancellationToken);
        try
        {
            while (!task.Wait(150))
            {
                Drain(writeError);
                WriteLatest(completed: false);
            }
            Drain(writeError);
            return task.Result;
        }
        catch (AggregateException ae)
        {
            Drain(writeError);
            var inner = ae.Flatten().InnerExceptions.FirstOrDefault() ?? ae;
            if (inner is OperationCanceledException || cancellationToken.IsCancellationRequested)
                throw new PipelineStoppedException();
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(inner).Throw();
            throw; // not reached
        }
        finally
        {
            WriteLatest(completed: true);
        }
    }

    private void Drain(Action<string, string> writeError)
    {
        while (_errors.TryDequeue(out var e)) writeError(e.Path, e.Reason);
        while (_warnings.TryDequeue(out var w)) _cmdlet.WriteWarning($"{(Locate is null ? EntryPath(RootPath ?? "", w.Path) : Locate(w.Path))}: {w.Reason}");
    }

    private void WriteLatest(bool completed)
    {
        var p = Interlocked.Exchange(ref _latest, null);
        if (p is null && !completed) return;
        if (completed && !_wroteProgress && p is null) return;
        var record = new ProgressRecord(_activityId, _activity, _status);
        if (p is not null)
        {
            long? total = p.BytesTotal ?? _bytesTotal;
            string done = $"{SizeFormatter.Format(p.BytesDone)}{(total is > 0 ? " of " + SizeFormatter.Format(total.Value) : "")}, {p.FilesDone} file(s){(p.FilesTotal is { } ft ? " of " + ft : "")}";
            record.CurrentOperation = string.IsNullOrEmpty(p.CurrentPath) ? done : $"{done}: {p.CurrentPath}";
            if (total is > 0) record.PercentComplete = (int)Math.Clamp(p.BytesDone * 100 / total.Value, 0, 100);
        }
        if (completed) record.RecordType = ProgressRecordType.Completed;
        try
        {
            _cmdlet.WriteProgress(record);
            _wroteProgress = true;
        }
        catch (PipelineStoppedException) when (completed)
        {
            // The pipeline is going away: the closing record does not matter.
        }
    }

    /// <summary>The error record for one entry the engine reported and skipped.</summary>
    public static ErrorRecord ItemError(string errorId, string itemPath, string reason) =>
        new(new RestoreException(RestoreErrorCode.WriteFailed, $"{itemPath}: {reason}", itemPath),
            errorId, ErrorCategory.WriteError, itemPath);

    /// <summary>The restore path of an entry the engine names relative to the transferred root.</summary>
    public static string EntryPath(string rootPath, string relative) =>
        string.IsNullOrEmpty(relative) ? rootPath : rootPath.TrimEnd('/') + "/" + relative.TrimStart('/');
}
