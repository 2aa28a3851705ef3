using System.Management.Automation;
using RestoreTools.Engine;

namespace RestoreTools.Module.Commands;

/// <summary>
/// Resolves restore paths /disk/type/component/path. A full path gives a ResolvedPath whose
/// LocalPath can be read; a partial path lists the next level as RestorePathEntry objects.
/// </summary>
[Cmdlet(VerbsDiagnostic.Resolve, "RestorePath", DefaultParameterSetName = LiteralPathParameterSet)]
[OutputType(typeof(ResolvedPath), typeof(RestorePathEntry))]
public sealed class ResolveRestorePathCommand : RestoreCmdlet
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

    protected override void ProcessRecord()
    {
        foreach (var (t, shown) in EachTarget(Path, LiteralPath))
        {
            Try(shown, () =>
            {
                var resolved = t.Engine.Resolve(t.RestorePath);
                if (resolved.Kind is ResolvedKind.Bucket or ResolvedKind.Item)
                    WriteRestoreObject(resolved, t.Session);
                else
                    foreach (var child in resolved.Children) WriteRestoreObject(child, t.Session);
            });
        }
    }
}
