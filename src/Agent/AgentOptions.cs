using System.Globalization;
using System.Net;
using RestoreTools.Contract;

namespace RestoreTools.Agent;

public enum ListenKind { Unix, Vsock, Tcp, VirtioSerial }

/// <summary>One --listen value: unix:/path, vsock:PORT, tcp:[ADDRESS:]PORT or virtio-serial[:PREFIX].</summary>
public sealed record ListenSpec(ListenKind Kind, string? SocketPath = null, uint VsockPort = 0, IPEndPoint? Tcp = null, string? PortPrefix = null)
{
    public override string ToString() => Kind switch
    {
        ListenKind.Unix => "unix:" + SocketPath,
        ListenKind.Vsock => $"vsock:{VsockPort}",
        ListenKind.VirtioSerial => "virtio-serial:" + PortPrefix,
        _ => "tcp:" + Tcp,
    };

    public static ListenSpec Parse(string value)
    {
        int colon = value.IndexOf(':');
        string scheme = colon < 0 ? value : value[..colon];
        string rest = colon < 0 ? "" : value[(colon + 1)..];
        switch (scheme)
        {
            case "unix":
                if (rest.Length == 0) throw new UsageException("--listen unix: needs a socket path (unix:/run/restore-agent.sock)");
                return new ListenSpec(ListenKind.Unix, SocketPath: Path.GetFullPath(rest));
            case "vsock":
                uint port = VsockEndPoint.DefaultPort;
                if (rest.Length > 0 && !uint.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out port))
                    throw new UsageException($"--listen vsock:{rest}: the port must be a number");
                return new ListenSpec(ListenKind.Vsock, VsockPort: port);
            case "tcp":
                return new ListenSpec(ListenKind.Tcp, Tcp: ParseTcp(rest));
            case "virtio-serial":
                return new ListenSpec(ListenKind.VirtioSerial, PortPrefix: rest.Length > 0 ? rest : VirtioSerialFraming.PortPrefix);
            default:
                throw new UsageException($"--listen {value}: expected unix:/path, vsock:PORT, tcp:[ADDRESS:]PORT or virtio-serial[:PREFIX]");
        }
    }

    /// <summary>PORT alone means 127.0.0.1:PORT; another address must be written out.</summary>
    private static IPEndPoint ParseTcp(string rest)
    {
        if (ushort.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out ushort port))
            return new IPEndPoint(IPAddress.Loopback, port);
        if (IPEndPoint.TryParse(rest, out var ep) && rest.Contains(':') && ep.Port is >= 0 and <= 65535 &&
            (rest.LastIndexOf(':') > rest.LastIndexOf(']') || !rest.Contains(']')))
            return ep;
        throw new UsageException($"--listen tcp:{rest}: expected tcp:PORT (loopback) or tcp:ADDRESS:PORT");
    }
}

/// <summary>A command-line mistake: printed with a pointer to --help, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>The agent's command line.</summary>
public sealed record AgentOptions
{
    public List<ListenSpec> Listen { get; } = [];
    public string? TokenFile { get; set; }
    public bool TokenAtFirstRequest { get; set; }
    public TimeSpan? IdleTimeout { get; set; }
    public int MaxDownloads { get; set; } = 8;
    public int MaxConnections { get; set; } = 128;
    public int Backlog { get; set; } = 32;
    public List<(string Name, string Path)> Images { get; } = [];
    public string StateDir { get; set; } = "/run/restoretools";
    public string? ImageRoot { get; set; }
    public bool? RestoreVm { get; set; }
    public bool Help { get; set; }
    public bool Version { get; set; }
    public bool Verbose { get; set; }

    public const string HelpText = """
        restore-agent: the RestoreTools engine over an HTTP/1.1 JSON API (inside a restore VM or on a host)

        Usage: restore-agent --listen unix:/run/restore-agent.sock [options]

        Listening (at least one; repeatable):
          --listen unix:PATH          Unix socket; the file is created with mode 0600
          --listen vsock[:PORT]       AF_VSOCK on any CID, default port 807
          --listen tcp:PORT           TCP on 127.0.0.1:PORT
          --listen tcp:ADDRESS:PORT   TCP on an explicit address ([::1]:PORT for IPv6)
          --listen virtio-serial[:PREFIX]  in a restore VM: every virtio-serial port named
                                      PREFIX* (default org.restoretools.agent.), one connection
                                      per port at a time; answers framed (VirtioSerialFraming)

        Security and limits:
          --token-file PATH           bearer token: read from PATH, or generated (32 random bytes,
                                      hex) and written there with mode 0600 when PATH is absent.
                                      Every request except the liveness status then needs
                                      'Authorization: Bearer <token>'. Without it: no token check.
          --token-at-first-request    read the --token-file at the first request, not at start
                                      (a restore VM resumed from a boot snapshot: the token is
                                      the one qemu gives this VM through fw_cfg). Until the file
                                      can be read, every request but the liveness status is 401.
          --max-downloads N           concurrent content/extract downloads (default 8); past it: 503
          --max-connections N         concurrent connections (default 128). When all are taken, a
                                      new one replaces the oldest that has made no authenticated
                                      request yet (a slow or silent client), else the longest-idle
                                      one; a client has 10 s to send its request headers
          --backlog N                 pending connections per listener (default 32)
          --idle-timeout SECONDS      exit (code 0) after SECONDS without a request; a running
                                      download holds the timer. Default: never.

        Disks:
          --image NAME=PATH           attach an image file read-only at start (repeatable; host only);
                                      detached when the agent exits
          --image-root DIR            POST images (and --image) attach files from inside DIR only:
                                      a relative path is taken from DIR, nothing outside it, no
                                      symlink followed inside it. Default: any path
          --state-dir DIR             the engine's device nodes, mount points and records of both
                                      (DIR/dev, DIR/mnt, DIR/owners); default /run/restoretools.
                                      At start, what a killed agent left there is cleaned
          --restore-vm                scan virtio disks (/sys/block/vd*) as restore disks; default:
                                      only when /etc/restoretools/restore-vm exists
          --host                      do not scan virtio disks (the default on a host)

        Other:
          --verbose                   also log ASP.NET Core's own messages
          --version                   print the version and exit
          -h, --help                  this text

        Endpoints (all under /api/v1/, paths as query parameters): status, disks, buckets?disk=,
        bucket?path=, resolve?path=, item?path=, list?path=, content?path= (Range), extract?path=&format=
        tar|targz|tarzst|zip|raw, POST mount?path=, POST unmount?path=, POST images?path=&name=,
        DELETE images?name=, POST stop. Errors: {"code": "...", "message": "..."}.
        Logs go to stderr, one line per request. Exit codes: 0 stop/idle/signal, 1 failure, 2 usage.
        """;

    public static AgentOptions Parse(IReadOnlyList<string> args)
    {
        var o = new AgentOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string? inline = null;
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=') is int eq and > 2)
            {
                inline = arg[(eq + 1)..];
                arg = arg[..eq];
            }
            string Value()
            {
                if (inline is not null) return inline;
                if (i + 1 >= args.Count) throw new UsageException($"{arg} needs a value");
                return args[++i];
            }
            switch (arg)
            {
                case "-h" or "--help": o.Help = true; break;
                case "--version": o.Version = true; break;
                case "--verbose": o.Verbose = true; break;
                case "--listen": o.Listen.Add(ListenSpec.Parse(Value())); break;
                case "--token-file": o.TokenFile = Path.GetFullPath(Value()); break;
                case "--token-at-first-request": o.TokenAtFirstRequest = true; break;
                case "--idle-timeout":
                    {
                        string v = Value();
                        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) || s <= 0 || double.IsInfinity(s))
                            throw new UsageException($"--idle-timeout {v}: expected a positive number of seconds");
                        o.IdleTimeout = TimeSpan.FromSeconds(s);
                        break;
                    }
                case "--max-downloads": o.MaxDownloads = PositiveInt(arg, Value()); break;
                case "--max-connections": o.MaxConnections = PositiveInt(arg, Value()); break;
                case "--backlog": o.Backlog = PositiveInt(arg, Value()); break;
                case "--state-dir": o.StateDir = Path.GetFullPath(Value()); break;
                case "--image-root": o.ImageRoot = Path.GetFullPath(Value()); break;
                case "--restore-vm": o.RestoreVm = true; break;
                case "--host": o.RestoreVm = false; break;
                case "--image":
                    {
                        string v = Value();
                        int sep = v.IndexOf('=');
                        if (sep <= 0 || sep == v.Length - 1) throw new UsageException($"--image {v}: expected NAME=PATH");
                        o.Images.Add((v[..sep], v[(sep + 1)..]));
                        break;
                    }
                default:
                    throw new UsageException($"unknown option '{args[i]}'");
            }
        }
        if (!o.Help && !o.Version && o.Listen.Count == 0)
            throw new UsageException("nothing to listen on: give at least one --listen");
        if (o.TokenAtFirstRequest && o.TokenFile is null)
            throw new UsageException("--token-at-first-request needs --token-file");
        return o;
    }

    private static int PositiveInt(string name, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n : throw new UsageException($"{name} {value}: expected a positive whole number");
}
