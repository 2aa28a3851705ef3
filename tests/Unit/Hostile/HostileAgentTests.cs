using RestoreTools.Contract;
using RestoreTools.Engine;
using RestoreTools.Tests.Unit.Agent;

namespace RestoreTools.Tests.Unit.Hostile;

/// <summary>One real restore-agent process (host mode, Unix socket) with the hostile image attached as "h".</summary>
public sealed class HostileAgentHost : IDisposable
{
    private AgentProcess? _agent;
    private readonly Lock _lock = new();

    public AgentProcess For(HostileCorpus corpus)
    {
        lock (_lock) return _agent ??= AgentProcess.Start(aot: false, token: true, "--image", "h=" + corpus.Image);
    }

    public void Dispose() => _agent?.Dispose();
}

/// <summary>The hostile corpus through AgentClient and a real agent process (the module's remote mode on a host).</summary>
[Collection("Hostile")]
public sealed class HostileAgentTests : HostileEngineTests, IClassFixture<HostileAgentHost>
{
    private readonly AgentClient _client;

    public HostileAgentTests(HostileCorpus corpus, HostileAgentHost host) : base(corpus) => _client = host.For(corpus).Client();

    protected override IRestoreEngine Engine => _client;
    protected override bool Remote => true;
    protected override void Abort() => _client.Dispose();

    public override void Dispose()
    {
        _client.Dispose();
        base.Dispose();
    }
}
