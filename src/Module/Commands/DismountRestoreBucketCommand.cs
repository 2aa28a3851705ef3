using System.Management.Automation;
using RestoreTools.Engine;

namespace RestoreTools.Module.Commands;

/// <summary>Unmounts buckets.</summary>
[Cmdlet(VerbsData.Dismount, "RestoreBucket", SupportsShouldProcess = true)]
[OutputType(typeof(RestoreBucket))]
public sealed class DismountRestoreBucketCommand : RestoreCmdlet
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
            if (!ShouldProcess(path, "Unmount")) continue;
            Try(path, () =>
            {
                var bucket = Engine.Unmount(path);
                if (PassThru) WriteRestoreObject(bucket);
            });
        }
    }
}
