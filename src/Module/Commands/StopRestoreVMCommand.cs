using System.Management.Automation;
using RestoreTools.Engine;
using RestoreTools.Module.Remote;

namespace RestoreTools.Module.Commands;

/// <summary>Asks a restore VM's agent to power off, then ends qemu if it does not; closes its sessions.</summary>
[Cmdlet(VerbsLifecycle.Stop, "RestoreVM", SupportsShouldProcess = true)]
public sealed class StopRestoreVMCommand : PSCmdlet
{
    /// <summary>The VM id (Get-RestoreVM), or VmId from a session piped in.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("VmId")]
    public string[] Id { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (var id in Id)
        {
            if (!ShouldProcess(id, "Stop restore VM")) continue;
            foreach (var s in SessionRegistry.All.Where(s => s.VmId == id)) SessionRegistry.Remove(s);
            try { VmHolder.Manager.Stop(id); }
            catch (RestoreException ex) { WriteError(ErrorMapper.ToErrorRecord(ex, id)); }
        }
    }
}
