using System.Management.Automation;
using RestoreTools.Engine;

namespace RestoreTools.Module.Commands;

/// <summary>Unmounts buckets.</summary>
[Cmdlet(VerbsData.Dismount, "RestoreBucket", SupportsShouldProcess = true, DefaultParameterSetName = LiteralPathParameterSet)]
[OutputType(typeof(RestoreBucket))]
public sealed class DismountRestoreBucketCommand : RestoreCmdlet
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

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var (t, shown) in EachTarget(Path, LiteralPath))
        {
            string path = t.RestorePath;
            if (!ShouldProcess(path, "Unmount")) continue;
            Try(shown, () =>
            {
                var bucket = t.Engine.Unmount(path);
                if (PassThru) WriteRestoreObject(bucket, t.Session);
            });
        }
    }
}
