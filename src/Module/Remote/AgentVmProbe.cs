using RestoreTools.Contract;
using RestoreTools.Engine.RestoreVm;

namespace RestoreTools.Module.Remote;

/// <summary>Readiness and stop requests for restore VMs, through the agent client.</summary>
internal sealed class AgentVmProbe : IRestoreVmAgentProbe
{
    public bool IsReady(RestoreVmInfo vm, TimeSpan timeout, int disks, CancellationToken cancellationToken)
    {
        // slirp accepts the connection before the guest listens: only an authenticated answer counts.
        using var client = AgentClient.WithTokenFile(vm.Endpoint, vm.TokenFile);
        client.RequestTimeout = timeout;
        try { return client.GetStatus().Disks >= disks; }
        catch (Exception) { return false; }
    }

    public bool RequestStop(RestoreVmInfo vm)
    {
        using var client = AgentClient.WithTokenFile(vm.Endpoint, vm.TokenFile);
        client.RequestTimeout = TimeSpan.FromSeconds(2);
        try { client.Stop(); return true; }
        catch (Exception) { return false; }
    }
}
