namespace RestoreTools.Engine.RestoreVm;

/// <summary>An image given to a restore VM: the guest sees it as a virtio disk whose serial is Name.</summary>
public sealed record RestoreVmImage(string Name, string Path, string Format)
{
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
    string Transport,          // "tcp" (user-mode net, forwarded to 127.0.0.1) or "vsock"
    string Endpoint,           // http://127.0.0.1:PORT or vsock:CID:807
    int IdleTimeoutSeconds,
    string Accelerator,        // "kvm" or "tcg"
    string StateDir,
    string TokenFile)
{
    public string ConsoleLog => System.IO.Path.Combine(StateDir, "console.log");
    public TimeSpan Uptime => DateTimeOffset.UtcNow - Started;
}

/// <summary>What the VM manager needs of the agent; the module's remote client provides it.</summary>
public interface IRestoreVmAgentProbe
{
    /// <summary>True once the agent in the VM answers an authenticated status request within the timeout.</summary>
    bool IsReady(RestoreVmInfo vm, TimeSpan timeout, CancellationToken cancellationToken);

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

    /// <summary>The agent's port inside the guest (user-mode networking) and its vsock port.</summary>
    public int GuestPort { get; init; } = 8000;
    public int VsockPort { get; init; } = 807;
}
