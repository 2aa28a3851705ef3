namespace RestoreTools.Engine.RestoreVm;

/// <summary>Chooses how qemu runs the guest, and how the host talks to it.</summary>
public static class Accelerators
{
    /// <summary>
    /// KVM only with a hardware KVM module (kvm_intel, kvm_amd): some hosts expose /dev/kvm backed
    /// by a paravirtual KVM (kvm_pvm) on which a stock kernel aborts or spins; those get TCG.
    /// </summary>
    public static string Detect(string sysRoot = "/sys", string devRoot = "/dev")
    {
        if (!File.Exists(Path.Combine(devRoot, "kvm"))) return "tcg";
        bool hardware = Directory.Exists(Path.Combine(sysRoot, "module/kvm_intel")) || Directory.Exists(Path.Combine(sysRoot, "module/kvm_amd"));
        return hardware ? "kvm" : "tcg";
    }

    /// <summary>vsock needs the host's vhost-vsock device; without it user-mode networking on loopback.</summary>
    public static bool HasVsock(string devRoot = "/dev") => File.Exists(Path.Combine(devRoot, "vhost-vsock"));
}
