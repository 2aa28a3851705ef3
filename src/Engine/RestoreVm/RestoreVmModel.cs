namespace RestoreTools.Engine.RestoreVm;

/// <summary>An image given to a restore VM: the guest sees it as a virtio disk whose serial is Name.</summary>
public sealed record RestoreVmImage(string Name, string Path, string Format)
{
    /// <summary>
    /// Attached writable, as raw, without an overlay: for test fixtures that a maker VM fills
    /// (Launch only; never for restores, and never resumed from a snapshot).
    /// </summary>
    public bool Writable { get; init; }

    /// <summary>qemu's format from the extension; raw is stated, never left to qemu's probing.</summary>
    public static RestoreVmImage FromPath(string path, string? name = null) =>
        new(name ?? System.IO.Path.GetFileName(path), System.IO.Path.GetFullPath(path), FormatOf(path));

    public static string FormatOf(string path) => System.IO.Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".qcow2" or ".qcow" => "qcow2",
        ".vmdk" => "vmdk",
        ".vhdx" => "vhdx",
        ".vhd" or ".vpc" => "vpc",
        ".vdi" => "vdi",
        _ => "raw",
    };
}

/// <summary>A running restore VM as the state folder records it.</summary>
public sealed record RestoreVmInfo(
    string Id,
    int Pid,
    IReadOnlyList<RestoreVmImage> Images,
    DateTimeOffset Started,
    string Transport,          // "virtio-serial" (ports as Unix sockets in StateDir), "tcp" (user-mode net, forwarded to 127.0.0.1) or "vsock"
    string Endpoint,           // virtio-serial:STATEDIR, http://127.0.0.1:PORT or vsock:CID:807
    int IdleTimeoutSeconds,
    string Accelerator,        // "kvm" or "tcg"
    string StateDir,
    string TokenFile)
{
    /// <summary>"cold" (kernel booted) or "snapshot" (a saved boot resumed).</summary>
    public string Boot { get; init; } = "cold";

    /// <summary>The images are attached as they are, without overlays: journals and logs are not replayed.</summary>
    public bool NoRecovery { get; init; }

    /// <summary>Who started it: the user (uid) and process (pid); 0 in state files of older versions.</summary>
    public int OwnerUid { get; init; }
    public int OwnerPid { get; init; }

    public string ConsoleLog => System.IO.Path.Combine(StateDir, "console.log");
    public TimeSpan Uptime => DateTimeOffset.UtcNow - Started;
}

/// <summary>What the VM manager needs of the agent; the module's remote client provides it.</summary>
public interface IRestoreVmAgentProbe
{
    /// <summary>True once the agent in the VM answers an authenticated status request within the timeout and sees that many disks.</summary>
    bool IsReady(RestoreVmInfo vm, TimeSpan timeout, int disks, CancellationToken cancellationToken);

    /// <summary>Asks the agent to stop (it powers the VM off); false when it did not answer.</summary>
    bool RequestStop(RestoreVmInfo vm);
}

public sealed record RestoreVmOptions
{
    /// <summary>The kernel (an uncompressed vmlinux boots faster under TCG) and the base initramfs.</summary>
    public required string Kernel { get; init; }
    public required string Initrd { get; init; }

    public int MemoryMiB { get; init; } = 512;
    public int TimeoutSeconds { get; init; } = 25;
    public int IdleTimeoutSeconds { get; init; } = 600;
    public string Qemu { get; init; } = "qemu-system-x86_64";

    /// <summary>"auto" (KVM only where it can run a stock kernel), "kvm" or "tcg".</summary>
    public string Accelerator { get; init; } = "auto";

    /// <summary>
    /// How the host reaches the agent: "auto" (vsock where the host has vhost-vsock, else
    /// virtio-serial), "virtio-serial", "tcp" (user-mode networking to a 127.0.0.1 port) or "vsock".
    /// </summary>
    public string Transport { get; init; } = "auto";

    /// <summary>The agent's port inside the guest (user-mode networking) and its vsock port.</summary>
    public int GuestPort { get; init; } = 8000;
    public int VsockPort { get; init; } = 807;

    /// <summary>
    /// Where boot snapshots are kept (null: always boot). The first start saves one (a boot
    /// without disks, once the agent listens); later starts resume it and plug the images in.
    /// </summary>
    public string? SnapshotDir { get; init; }

    /// <summary>Empty PCIe root ports in a snapshot: the most images a resumed VM takes (more boot cold).</summary>
    public int SnapshotSlots { get; init; } = 8;

    /// <summary>
    /// Attach the images read-only, as they are, without the throw-away overlay that lets a dirty
    /// journal or log be replayed: mounts then skip the replay (noload, norecovery).
    /// </summary>
    public bool NoRecovery { get; init; }

    /// <summary>This VM's own state folder (made if absent) instead of a new one under the manager's root: for scripts.</summary>
    public string? StateDir { get; init; }

    /// <summary>More kernel command line (restoretools.selftest=1, a maker's parameters).</summary>
    public string? KernelArguments { get; init; }

    /// <summary>Virtual CPUs (-smp); null: <see cref="DefaultCpus"/>.</summary>
    public int? Cpus { get; init; }

    /// <summary>
    /// Two where the host has two cores or more, else one. Under TCG the second vCPU takes the guest's
    /// block completions and the transport beside the agent (bench/vm.sh --io, interleaved runs: the
    /// cold 10k-file tar 2.85-3.00 s → 2.49-2.63 s, xfs 3.14-3.37 → 2.40-2.77 s, resume no slower).
    /// </summary>
    public static int DefaultCpus => Math.Min(2, Environment.ProcessorCount);

    /// <summary>The -smp this VM gets.</summary>
    internal int EffectiveCpus => Cpus ?? DefaultCpus;

    /// <summary>Told when a snapshot could not be used (the VM then boots) and about long steps.</summary>
    public Action<string>? Warning { get; init; }
    public Action<string>? Progress { get; init; }
}
