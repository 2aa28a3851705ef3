using System.Management.Automation;
using RestoreTools.Engine;

namespace RestoreTools.Module.Commands;

/// <summary>Mounts buckets read-only.</summary>
[Cmdlet(VerbsData.Mount, "RestoreBucket", SupportsShouldProcess = true)]
[OutputType(typeof(RestoreBucket))]
public sealed class MountRestoreBucketCommand : RestoreCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RestorePathCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var path in Path)
        {
            if (!ShouldProcess(path, "Mount read-only")) continue;
            Try(path, () =>
            {
                var bucket = Engine.Mount(path);
                // Locally the engine warned while mounting; through an agent the warnings come with the bucket.
                if (Session is not null)
                    foreach (var w in bucket.Warnings) WriteWarning($"'{bucket.Path}': {w}");
                if (PassThru) WriteRestoreObject(bucket);
            });
        }
    }
}
