using RestoreTools.Engine;
using RestoreTools.Tests.Unit.Support;

namespace RestoreTools.Tests.Unit.Hostile;

/// <summary>The hostile corpus through the engine in this process (the module's local mode).</summary>
[Collection("Hostile")]
public sealed class HostileLocalTests : HostileEngineTests
{
    private readonly TestEngine _t = new();

    public HostileLocalTests(HostileCorpus corpus) : base(corpus) => _t.Engine.AttachImage(corpus.Image, "h");

    protected override IRestoreEngine Engine => _t.Engine;
    protected override bool Remote => false;

    public override void Dispose()
    {
        _t.Dispose();
        base.Dispose();
    }
}
