using System.Management.Automation;
using RestoreTools.Engine;

namespace RestoreTools.Module.Commands;

/// <summary>Unmounts an attached image's buckets and releases its loop device.</summary>
[Cmdlet(VerbsData.Dismount, "RestoreImage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(void))]
public sealed class DismountRestoreImageCommand : RestoreCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Disk")]
    [ArgumentCompleter(typeof(DiskNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Name { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (var name in Name)
        {
            var names = new List<string>();
            if (WildcardPattern.ContainsWildcardCharacters(name))
            {
                if (!Try(name, () => names.AddRange(Match(Engine.GetDisks(), d => d.Name, name)
                        .Where(d => d.Source == "image").Select(d => d.Name))))
                    continue;
            }
            else
            {
                names.Add(name);
            }

            foreach (var n in names)
            {
                if (!ShouldProcess(n, "Unmount buckets and detach image")) continue;
                Try(n, () => Engine.DetachImage(n));
            }
        }
    }
}
