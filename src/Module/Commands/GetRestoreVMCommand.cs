using System.Management.Automation;
using RestoreTools.Engine.RestoreVm;
using RestoreTools.Module.Remote;

namespace RestoreTools.Module.Commands;

/// <summary>
/// Lists running restore VMs this PowerShell may manage: started by this user, in this process or
/// in one that has ended. -All lists every restore VM on the host (other users', other shells').
/// </summary>
[Cmdlet(VerbsCommon.Get, "RestoreVM")]
[OutputType(typeof(RestoreVmInfo))]
public sealed class GetRestoreVMCommand : PSCmdlet
{
    [Parameter(Position = 0)]
    [SupportsWildcards]
    public string[]? Id { get; set; }

    /// <summary>Every restore VM on this host, whoever started it.</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    protected override void EndProcessing()
    {
        foreach (var vm in VmHolder.Manager.List())
            if ((All || RestoreVmManager.IsManagedHere(vm)) && (Id is null || Id.Any(p => new WildcardPattern(p).IsMatch(vm.Id))))
                WriteObject(vm);
    }
}
