using System.Management.Automation;
using RestoreTools.Engine;

namespace RestoreTools.Module.Commands;

/// <summary>Lists disks: virtio disks named by serial and attached images.</summary>
[Cmdlet(VerbsCommon.Get, "RestoreDisk")]
[OutputType(typeof(RestoreDisk))]
public sealed class GetRestoreDiskCommand : RestoreCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Disk")]
    [ArgumentCompleter(typeof(DiskNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    private readonly HashSet<string> written = new(StringComparer.Ordinal);

    protected override void ProcessRecord()
    {
        IReadOnlyList<RestoreDisk> disks = [];
        if (!Try(Name?.FirstOrDefault(), () => disks = Engine.GetDisks())) return;

        if (Name is null)
        {
            foreach (var d in disks) Write(d);
            return;
        }

        foreach (var name in Name)
        {
            var matches = Match(disks, d => d.Name, name).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
            {
                WriteRestoreError(RestoreErrorCode.DiskNotFound, $"No disk named '{name}'.", name);
                continue;
            }
            foreach (var d in matches) Write(d);
        }
    }

    private void Write(RestoreDisk disk)
    {
        if (!written.Add(disk.Name)) return;
        // Locally the engine raised these already (they come out with the cmdlet's other warnings);
        // through an agent they arrive with the disk.
        if (Session is not null)
            foreach (var w in disk.Warnings) WriteWarning($"disk '{disk.Name}': {w}");
        WriteRestoreObject(disk);
    }
}
