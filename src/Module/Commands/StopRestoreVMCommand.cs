using System.Management.Automation;
using RestoreTools.Engine;
using RestoreTools.Module.Remote;

namespace RestoreTools.Module.Commands;

/// <summary>Asks a restore VM's agent to power off, then ends qemu if it does not; closes its sessions.</summary>
[Cmdlet(VerbsLifecycle.Stop, "RestoreVM", SupportsShouldProcess = true, DefaultParameterSetName = "Id")]
public sealed class StopRestoreVMCommand : PSCmdlet
{
    /// <summary>The VM ids, as Get-RestoreVM shows them.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Id")]
    public string[] Id { get; set; } = [];

    /// <summary>
    /// What is piped in: sessions of Start-RestoreVM (their VmId), VMs of Get-RestoreVM (their
    /// Id) or ids. Told apart by type, so that a session never binds its own number as a VM id.
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "InputObject")]
    public PSObject[] InputObject { get; set; } = [];

    protected override void ProcessRecord()
    {
        var ids = new List<string>(Id);
        if (ParameterSetName == "InputObject")
            foreach (var o in InputObject)
                switch (o.BaseObject)
                {
                    case RestoreSession { VmId: { } vmId }: ids.Add(vmId); break;
                    case RestoreSession s:
                        WriteError(ErrorMapper.Create(Engine.RestoreErrorCode.VmNotFound,
                            $"session {s.Id} ({s.Endpoint}) is not a restore VM's: close it with Disconnect-RestoreAgent", s));
                        break;
                    case Engine.RestoreVm.RestoreVmInfo vm: ids.Add(vm.Id); break;
                    case string id: ids.Add(id); break;
                    default:
                        WriteError(ErrorMapper.Create(Engine.RestoreErrorCode.VmNotFound,
                            $"'{o}' is not a restore VM, a session of one or a VM id", o));
                        break;
                }
        foreach (var id in ids)
        {
            if (!ShouldProcess(id, "Stop restore VM")) continue;
            foreach (var s in SessionRegistry.All.Where(s => s.VmId == id)) SessionRegistry.Remove(s);
            try { VmHolder.Manager.Stop(id); }
            catch (RestoreException ex) { WriteError(ErrorMapper.ToErrorRecord(ex, id)); }
        }
    }
}
