using System.Management.Automation;
using RestoreTools.Engine;
using RestoreTools.Engine.Paths;

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

    /// <summary>
    /// Parameter sets of cmdlets taking restore paths. LiteralPath is the default set so that an
    /// object carrying both Path and RestorePath (every item, bucket or resolved path, by the types
    /// file) binds -LiteralPath by RestorePath: a name from an image is never taken as a pattern.
    /// Strings and objects with only a Path bind -Path.
    /// </summary>
    protected const string PathParameterSet = "Path", LiteralPathParameterSet = "LiteralPath";

    /// <summary>The aliases of -LiteralPath: LP (as the FileSystem cmdlets), RestorePath (the property piped objects carry).</summary>
    protected const string LiteralAlias = "LP", RestorePathAlias = "RestorePath";

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
    protected void WriteRestoreObject(object value) => WriteRestoreObject(value, Session);

    /// <summary>Writes an object of the engine with the session it came through (none: this host).</summary>
    protected void WriteRestoreObject(object value, Remote.RestoreSession? session)
    {
        if (session is null) { WriteObject(value); return; }
        var wrapped = new PSObject(value);
        wrapped.Properties.Add(new PSNoteProperty(SessionProperty, session));
        WriteObject(wrapped);
    }

    /// <summary>
    /// What one -Path or -LiteralPath value names, each with its engine and session: a Restore: drive
    /// path through its drive, a restore path on this cmdlet's engine. A -Path value's wildcards are
    /// expanded by the engine's RestorePathExpander (the same for this host and an agent); matching
    /// nothing is an ItemNotFound error. A -LiteralPath value is taken as written. Matched names are
    /// the engine's paths, never expanded again. Branches that could not be looked into are warnings.
    /// </summary>
    protected IReadOnlyList<Provider.DriveTarget> Targets(string value, bool literal, bool matchHidden = false)
    {
        void Skipped(string path, RestoreException ex) => WriteWarning($"'{path}' was not searched: {ex.Message}");
        if (Provider.DrivePaths.Resolve(this, value, expandWildcards: !literal, matchHidden, Skipped) is { } onDrive)
            return onDrive;
        var engine = Engine;
        if (literal) return [new Provider.DriveTarget(value, Session, null)];
        var expander = new RestorePathExpander(engine) { MatchHidden = matchHidden, OnSkipped = Skipped };
        return expander.ExpandMatches(value, StopToken).Select(m => new Provider.DriveTarget(m.Path, Session, null, m.Item)).ToList();
    }

    /// <summary>
    /// Every target of this cmdlet's -Path values (or -LiteralPath values, by parameter set), each with
    /// what an error about it names: the value as typed when it names one item, else the match. A
    /// value that fails to expand has written its error already and gives nothing.
    /// </summary>
    protected IEnumerable<(Provider.DriveTarget Target, string Shown)> EachTarget(string[] paths, string[]? literalPaths, bool matchHidden = false)
    {
        bool literal = ParameterSetName == LiteralPathParameterSet;
        foreach (var value in literal ? literalPaths ?? [] : paths)
        {
            IReadOnlyList<Provider.DriveTarget> targets = [];
            if (!Try(value, () => targets = Targets(value, literal, matchHidden))) continue;
            foreach (var t in targets) yield return (t, targets.Count == 1 ? value : t.RestorePath);
        }
    }

    /// <summary>Whether a -Path value (not -LiteralPath) holds wildcards, so that it names matches rather than one item.</summary>
    protected static bool IsPattern(string value, bool literal) => !literal && RestorePathExpander.HasWildcards(value);

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
