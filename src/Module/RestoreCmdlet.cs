using System.Management.Automation;
using RestoreTools.Engine;

namespace RestoreTools.Module;

/// <summary>Common plumbing: the shared engine, per-item error handling, engine warnings.</summary>
public abstract class RestoreCmdlet : PSCmdlet
{
    protected static IRestoreEngine Engine => EngineHolder.Engine;

    private readonly CancellationTokenSource _stop = new();

    /// <summary>Cancelled when the pipeline is stopped (Ctrl+C): long engine calls watch it.</summary>
    protected CancellationToken StopToken => _stop.Token;

    protected override void StopProcessing()
    {
        try { _stop.Cancel(); } catch (ObjectDisposedException) { }
    }

    /// <summary>
    /// Runs one item's work; a RestoreException becomes a non-terminating error whose target is
    /// the item, so the pipeline goes on with the next item.
    /// </summary>
    protected bool Try(object? target, Action action)
    {
        try
        {
            action();
            return true;
        }
        catch (RestoreException ex)
        {
            WriteError(ErrorMapper.ToErrorRecord(ex, target));
            return false;
        }
        finally
        {
            FlushWarnings();
        }
    }

    protected void WriteRestoreError(RestoreErrorCode code, string message, object? target) =>
        WriteError(ErrorMapper.Create(code, message, target));

    protected void FlushWarnings()
    {
        foreach (var w in EngineHolder.DrainWarnings()) WriteWarning(w);
    }

    protected override void EndProcessing() => FlushWarnings();

    /// <summary>Names matching one pattern (wildcards, case-insensitive) out of candidates.</summary>
    protected static IEnumerable<T> Match<T>(IEnumerable<T> items, Func<T, string> key, string pattern)
    {
        var wp = new WildcardPattern(pattern, WildcardOptions.IgnoreCase);
        return items.Where(i => wp.IsMatch(key(i)));
    }
}
