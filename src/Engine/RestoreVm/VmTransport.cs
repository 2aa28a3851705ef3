namespace RestoreTools.Engine.RestoreVm;

/// <summary>
/// How the host reaches the agent in a restore VM, and the qemu devices for it:
/// vsock (where the host has vhost-vsock), else virtio-serial ports exposed as Unix sockets in
/// the VM's folder (one HTTP connection per port at a time), else user-mode networking (slirp) to
/// a 127.0.0.1 port. Under TCG slirp costs emulated TCP/IP on both sides of every packet; a
/// virtio-serial port moves 32 KiB per guest write.
/// </summary>
public static class VmTransport
{
    public const string Vsock = "vsock", VirtioSerial = "virtio-serial", Tcp = "tcp";

    /// <summary>Ports of a virtio-serial VM: as many connections at once as the agent allows downloads.</summary>
    public const int Ports = 8;

    /// <summary>The ports' names (qemu's virtserialport name=, the guest's /sys/class/virtio-ports/*/name): PREFIX0 ...</summary>
    public const string PortPrefix = "org.restoretools.agent.";

    /// <summary>The transport options.Transport asks for, "auto" decided by what the host has.</summary>
    public static string Resolve(RestoreVmOptions options, Func<bool>? hasVsock = null) => options.Transport switch
    {
        "auto" or "" => (hasVsock ?? (() => Accelerators.HasVsock()))() ? Vsock : VirtioSerial,
        Vsock or VirtioSerial or Tcp => options.Transport,
        _ => throw new RestoreException(RestoreErrorCode.NotSupported,
            $"restore VM transport '{options.Transport}': expected auto, virtio-serial, tcp or vsock"),
    };

    /// <summary>The endpoint AgentClient takes for a VM of this transport.</summary>
    public static string Endpoint(string transport, string vmDir, int port, int cid, int vsockPort) => transport switch
    {
        Vsock => $"vsock:{cid}:{vsockPort}",
        VirtioSerial => "virtio-serial:" + vmDir,
        _ => $"http://127.0.0.1:{port}",
    };

    /// <summary>
    /// qemu's devices for the transport. virtio-serial: one virtserialport per connection, its
    /// chardev a Unix socket server in vmDir (wait=off: qemu does not wait for a client; a client
    /// that disconnects can connect again). tcp: slirp with a host forward when hostPort is given
    /// (a snapshot being saved has none).
    /// </summary>
    public static List<string> QemuArguments(string transport, string vmDir, int? hostPort, int guestPort, int cid)
    {
        var a = new List<string>();
        switch (transport)
        {
            case Vsock:
                a.Add("-device"); a.Add($"vhost-vsock-pci,guest-cid={cid}");
                break;
            case VirtioSerial:
                a.Add("-device"); a.Add($"virtio-serial-pci,id=vs0,max_ports={Ports + 1},romfile=");
                for (int i = 0; i < Ports; i++)
                {
                    string socket = Path.Combine(vmDir, $"port-{i}.sock").Replace(",", ",,");
                    a.Add("-chardev"); a.Add($"socket,id=vp{i},path={socket},server=on,wait=off");
                    a.Add("-device"); a.Add($"virtserialport,bus=vs0.0,nr={i + 1},chardev=vp{i},name={PortPrefix}{i}");
                }
                break;
            default:
                a.Add("-netdev");
                a.Add(hostPort is { } port
                    ? $"user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:{port}-10.0.2.15:{guestPort}"
                    : "user,id=n0,restrict=on");
                a.Add("-device"); a.Add("virtio-net-pci,netdev=n0,romfile=");
                break;
        }
        return a;
    }
}
