using System.Management.Automation;
using RestoreTools.Engine;

namespace RestoreTools.Module;

/// <summary>Common plumbing: the shared engine, per-item error handling, engine warnings.</summary>
public abstract class RestoreCmdlet : PSCmdlet
{
    /// <summary>
    /// A restore agent's session (Connect-RestoreAgent, Start-RestoreVM): the cmdlet then works
    /// through that agent instead of this machine's own disks. Objects a session's cmdlets write
    /// carry it (RestoreSession), and bind it again when piped on, as CIM objects carry theirs.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias(SessionProperty)]
    public Remote.RestoreSession? Session { get; set; }

    /// <summary>The note property that carries the session on the objects written.</summary>
    public const string SessionProperty = "RestoreSession";

    /// <summary>The engine this call works on: the session's agent, or the local engine.</summary>
    protected IRestoreEngine Engine
    {
        get
        {
            // An explicit -Session $null (a Connect-RestoreAgent or Start-RestoreVM that failed) must
            // not quietly mean this host's disks.
            if (Session is null && MyInvocation.BoundParameters.ContainsKey(nameof(Session)))
                ThrowTerminatingError(new ErrorRecord(new PSArgumentNullException(nameof(Session),
                    "-Session is null (did Connect-RestoreAgent or Start-RestoreVM fail?): leave -Session out to work on this host's disks"),
                    "SessionIsNull", ErrorCategory.InvalidArgument, null));
            return Session?.Engine ?? EngineHolder.Engine;
        }
    }

    /// <summary>Writes an object of the engine; through a session, with the session attached to it.</summary>
    protected void WriteRestoreObject(object value)
    {
        if (Session is null) { WriteObject(value); return; }
        var wrapped = new PSObject(value);
        wrapped.Properties.Add(new PSNoteProperty(SessionProperty, Session));
        WriteObject(wrapped);
    }

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
            // A refusal to overwrite is about the destination, which the exception names.
            WriteError(ErrorMapper.ToErrorRecord(ex, ex.Code == RestoreErrorCode.TargetExists ? ex.Target ?? target : target));
            return false;
        }
        catch (Exception ex) when (Session is not null && ex is Contract.AgentException or HttpRequestException or IOException)
        {
            // Through an agent: refused (401, 503) or unreachable; the next item may still work.
            WriteError(ErrorMapper.FromRemote(ex, target));
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
