using System.Collections;
using System.Management.Automation;
using RestoreTools.Contract;
using RestoreTools.Engine;
using RestoreTools.Engine.RestoreVm;
using RestoreTools.Module.Remote;

namespace RestoreTools.Module.Commands;

/// <summary>
/// Boots a restore VM with the images as read-only virtio disks (serial = image name), waits for
/// its agent and returns a session. A running VM with the same images is reused unless -New.
/// The first start saves a boot snapshot; later starts resume it (unless -NoSnapshot).
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "RestoreVM", SupportsShouldProcess = true)]
[OutputType(typeof(RestoreSession))]
public sealed class StartRestoreVMCommand : PSCmdlet
{
    /// <summary>Image files (named by file name), or a hashtable name = path; files piped in (Get-ChildItem *.img) too.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public object[] Image { get; set; } = [];

    // Everything piped in goes into one VM, started once the pipeline has ended.
    private readonly List<object> _images = [];

    [Parameter]
    [ValidateRange(128, 65536)]
    public int Memory { get; set; } = 512;

    /// <summary>How long to wait for the agent to answer.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int TimeoutSeconds { get; set; } = 25;

    /// <summary>The VM powers itself off after this long without a request.</summary>
    [Parameter]
    [ValidateRange(5, 86400)]
    public int IdleTimeoutSeconds { get; set; } = 600;

    [Parameter]
    public string? KernelPath { get; set; }

    [Parameter]
    public string? InitrdPath { get; set; }

    /// <summary>Start a new VM even when one with the same images runs.</summary>
    [Parameter]
    public SwitchParameter New { get; set; }

    /// <summary>Boot the kernel instead of resuming the boot snapshot (and save none).</summary>
    [Parameter]
    public SwitchParameter NoSnapshot { get; set; }

    /// <summary>Attach the images as they are: no throw-away overlay, so dirty journals and logs are not replayed.</summary>
    [Parameter]
    public SwitchParameter NoRecovery { get; set; }

    /// <summary>
    /// How the host talks to the VM's agent: auto (vsock where the host has vhost-vsock, else
    /// virtio-serial ports), virtio-serial, tcp (user-mode networking to a loopback port) or vsock.
    /// </summary>
    [Parameter]
    [ValidateSet("auto", "virtio-serial", "tcp", "vsock")]
    public string Transport { get; set; } = "auto";

    /// <summary>Where boot snapshots are kept: $RESTORETOOLS_VM_SNAPSHOTS, else /var/cache/restoretools/vm-snapshots.</summary>
    private static string SnapshotDir =>
        Environment.GetEnvironmentVariable("RESTORETOOLS_VM_SNAPSHOTS") is { Length: > 0 } d ? d : "/var/cache/restoretools/vm-snapshots";

    protected override void ProcessRecord() => _images.AddRange(Image);

    protected override void EndProcessing()
    {
        try
        {
            var images = Images().ToList();
            var manager = VmHolder.Manager;
            var vm = New ? null : manager.FindReusable(images, NoRecovery.IsPresent);
            if (vm is not null && Transport != "auto" && !string.Equals(vm.Transport, Transport, StringComparison.OrdinalIgnoreCase)) vm = null;
            if (vm is null)
            {
                if (!ShouldProcess(string.Join(", ", images.Select(i => $"{i.Name}={i.Path}")), "Start restore VM")) return;
                var (kernel, initrd) = VmFiles.Locate(Resolve(KernelPath), Resolve(InitrdPath));
                WriteProgress(new ProgressRecord(1, "Start-RestoreVM", "Booting the restore VM and waiting for its agent"));
                vm = manager.Start(images, new RestoreVmOptions
                {
                    Kernel = kernel,
                    Initrd = initrd,
                    MemoryMiB = Memory,
                    TimeoutSeconds = TimeoutSeconds,
                    IdleTimeoutSeconds = IdleTimeoutSeconds,
                    SnapshotDir = NoSnapshot ? null : SnapshotDir,
                    NoRecovery = NoRecovery.IsPresent,
                    Transport = Transport.ToLowerInvariant(),
                    Warning = WriteWarning,
                    Progress = p => WriteProgress(new ProgressRecord(1, "Start-RestoreVM", p)),
                });
                WriteProgress(new ProgressRecord(1, "Start-RestoreVM", "Ready") { RecordType = ProgressRecordType.Completed });
            }
            var client = AgentClient.WithTokenFile(vm.Endpoint, vm.TokenFile);
            WriteObject(SessionRegistry.Add(vm.Endpoint, client, vm.Id));
        }
        catch (RestoreException ex)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(ex, Image));
        }
    }

    private string? Resolve(string? path) => path is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

    private IEnumerable<RestoreVmImage> Images()
    {
        foreach (var item in _images)
        {
            switch (item is PSObject pso ? pso.BaseObject : item)
            {
                case FileSystemInfo file:
                    yield return RestoreVmImage.FromPath(file.FullName);
                    break;
                case IDictionary map:
                    foreach (DictionaryEntry e in map)
                        yield return RestoreVmImage.FromPath(Resolve(e.Value?.ToString() ?? "")!, e.Key.ToString());
                    break;
                case var other:
                    yield return RestoreVmImage.FromPath(Resolve(other?.ToString() ?? "")!);
                    break;
            }
        }
    }
}
