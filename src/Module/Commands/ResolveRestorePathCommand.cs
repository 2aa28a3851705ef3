using System.Management.Automation;
using RestoreTools.Engine;

namespace RestoreTools.Module.Commands;

/// <summary>
/// Resolves restore paths /disk/type/component/path. A full path gives a ResolvedPath whose
/// LocalPath can be read; a partial path lists the next level as RestorePathEntry objects.
/// </summary>
[Cmdlet(VerbsDiagnostic.Resolve, "RestorePath")]
[OutputType(typeof(ResolvedPath), typeof(RestorePathEntry))]
public sealed class ResolveRestorePathCommand : RestoreCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RestorePathCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (var path in Path)
        {
            Try(path, () =>
            {
                var resolved = Engine.Resolve(path);
                if (resolved.Kind is ResolvedKind.Bucket or ResolvedKind.Item)
                    WriteRestoreObject(resolved);
                else
                    foreach (var child in resolved.Children) WriteRestoreObject(child);
            });
        }
    }
}
