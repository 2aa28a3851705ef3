using System.Management.Automation;
using RestoreTools.Engine;

namespace RestoreTools.Module.Commands;

/// <summary>Mounts buckets read-only.</summary>
[Cmdlet(VerbsData.Mount, "RestoreBucket", SupportsShouldProcess = true, DefaultParameterSetName = LiteralPathParameterSet)]
[OutputType(typeof(RestoreBucket))]
public sealed class MountRestoreBucketCommand : RestoreCmdlet
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
            if (!ShouldProcess(path, "Mount read-only")) continue;
            Try(shown, () =>
            {
                var bucket = t.Engine.Mount(path);
                // Locally the engine warned while mounting; through an agent the warnings come with the bucket.
                if (t.Session is not null)
                    foreach (var w in bucket.Warnings) WriteWarning($"'{bucket.Path}': {w}");
                if (PassThru) WriteRestoreObject(bucket, t.Session);
            });
        }
    }
}
