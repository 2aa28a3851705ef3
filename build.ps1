<#
.SYNOPSIS
    Builds, tests and demonstrates RestoreTools.

.DESCRIPTION
    Normally started through ./build.sh, which installs the Debian packages and restores
    the local pwsh tool first. Tasks:

      Build   dotnet build RestoreTools.slnx, then lays out the module folder
              out/RestoreTools/ (publish of src/Module for linux-x64 + RestoreTools.psd1,
              RestoreTools.Format.ps1xml, RestoreTools.Types.ps1xml and en-US/ help when they exist).
      Sample  makes out/sample/sample.img with tools/New-SampleImage.sh (needs root).
      Agent   publishes the agent as one static NativeAOT executable: out/agent/restore-agent.
      VmImage Agent, then vm/build-vm.sh: Debian's kernel (vmlinux) and an initramfs with
              busybox, kernel modules and the agent, into out/vm/.
      Test    Build + Sample + Agent + VmImage, then the xunit suite (tests/Unit) and every
              tests/Pester/*.Tests.ps1 with Pester 6.2.0 in a fresh pwsh. Ends with the line
              "N passed, N failed, N skipped"; exits non-zero when a test failed, a runner
              failed, or no test ran at all.
      Demo    Build + Sample, then demo/Demo.ps1 -ModulePath <module psd1> -Image <sample.img>
              in a fresh pwsh.
      Clean   removes out/ and every bin/ and obj/ folder.

    Pester tests get RESTORETOOLS_AGENT (the agent binary) and RESTORETOOLS_VM_DIR (out/vm) too, and:
      RESTORETOOLS_MODULE  absolute path of out/RestoreTools/RestoreTools.psd1
      RESTORETOOLS_SAMPLE  absolute path of out/sample/sample.img

.PARAMETER Task
    One or more of Build, Test, Demo, Clean, Sample. Run in the given order; each task
    runs at most once (Test and Demo bring in Build and Sample).

.PARAMETER Configuration
    The dotnet configuration, Release by default.

.EXAMPLE
    ./build.sh Test
    Installs what is missing, builds, makes the sample image and runs every test.

.EXAMPLE
    ./build.sh Demo
    Builds, makes the sample image and runs demo/Demo.ps1 against it.

.EXAMPLE
    dotnet pwsh -NoProfile -File build.ps1 -Task Build -Configuration Debug
    Builds the Debug configuration and lays out out/RestoreTools/.

.EXAMPLE
    dotnet pwsh -NoProfile -Command './build.ps1 -Task Clean,Build'
    Several tasks at once (./build.sh Clean Build does the same).
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Demo', 'Clean', 'Sample', 'Agent', 'VmImage')]
    [string[]]$Task = 'Build',

    [string]$Configuration = 'Release'
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$Root = $PSScriptRoot
$OutDir = Join-Path $Root 'out'
$ModuleDir = Join-Path $OutDir 'RestoreTools'
$ModuleManifest = Join-Path $ModuleDir 'RestoreTools.psd1'
$SampleImage = Join-Path $OutDir 'sample/sample.img'
$ResultsDir = Join-Path $OutDir 'test-results'
$PesterVersion = '6.2.0'
$AgentDir = Join-Path $OutDir 'agent'
$AgentBinary = Join-Path $AgentDir 'restore-agent'
$VmDir = Join-Path $OutDir 'vm'

# Assemblies pwsh ships itself: never copy them into the module folder.
$ExcludedFromModule = @('System.Management.Automation.dll', 'PowerShellStandard.Library*')

function Write-Step([string]$Message) {
    Write-Host "==> $Message" -ForegroundColor Cyan
}

function Invoke-Native {
    # Runs a native command, echoing it; throws when it exits non-zero.
    param([Parameter(Mandatory)][string]$FilePath, [string[]]$ArgumentList = @())
    Write-Host "    $FilePath $($ArgumentList -join ' ')" -ForegroundColor DarkGray
    & $FilePath @ArgumentList | Out-Host
    if ($LASTEXITCODE -ne 0) {
        throw "'$FilePath $($ArgumentList -join ' ')' failed with exit code $LASTEXITCODE."
    }
}

function Invoke-FreshPwsh {
    # Starts a new pwsh process (same version as this one) and returns its exit code.
    # A loaded module dll cannot be reloaded, so tests and the demo never run in this process.
    param([string[]]$ArgumentList)
    $pwshDll = Join-Path $PSHOME 'pwsh.dll'
    $host_ = [Environment]::ProcessPath
    if ((Split-Path -Leaf $host_) -like 'dotnet*' -and (Test-Path $pwshDll)) {
        & $host_ $pwshDll -NoProfile -NonInteractive @ArgumentList | Out-Host
    } else {
        & $host_ -NoProfile -NonInteractive @ArgumentList | Out-Host
    }
    return $LASTEXITCODE
}

function Get-MountsBelow([string]$Path) {
    # Mount points at or below $Path (from /proc/self/mountinfo; octal escapes decoded).
    if (-not (Test-Path '/proc/self/mountinfo')) { return @() }
    $prefix = $Path.TrimEnd('/')
    @(Get-Content '/proc/self/mountinfo' | ForEach-Object {
        $mp = [regex]::Replace(($_ -split ' ')[4], '\\([0-7]{3})', { param($m) [char][Convert]::ToInt32($m.Groups[1].Value, 8) })
        if ($mp -eq $prefix -or $mp.StartsWith("$prefix/")) { $mp }
    })
}

# ---------------------------------------------------------------------------------------
function Invoke-BuildTask {
    Write-Step "Build ($Configuration)"
    Invoke-Native dotnet @('build', (Join-Path $Root 'RestoreTools.slnx'), '-c', $Configuration, '--nologo')

    Write-Step "Module layout: $ModuleDir"
    $publishDir = Join-Path ([IO.Path]::GetTempPath()) "restoretools-publish-$PID"
    try {
        # --no-build: the solution build above already built the module for linux-x64 (its csproj
        # sets the RID); rebuilding here would flip the engine's restore between RID and no RID.
        Invoke-Native dotnet @('publish', (Join-Path $Root 'src/Module/RestoreTools.Module.csproj'),
            '-c', $Configuration, '-r', 'linux-x64', '--self-contained', 'false', '-o', $publishDir, '--nologo', '--no-build')
        if (-not (Test-Path (Join-Path $publishDir 'RestoreTools.dll'))) {
            throw "dotnet publish did not produce RestoreTools.dll in $publishDir."
        }
        if (Test-Path $ModuleDir) { Remove-Item $ModuleDir -Recurse -Force }
        $null = New-Item -ItemType Directory -Path $ModuleDir -Force
        Get-ChildItem $publishDir -Force | Where-Object {
            $name = $_.Name
            -not ($ExcludedFromModule | Where-Object { $name -like $_ })
        } | Copy-Item -Destination $ModuleDir -Recurse -Force
    } finally {
        if (Test-Path $publishDir) { Remove-Item $publishDir -Recurse -Force }
    }

    $manifest = Join-Path $Root 'RestoreTools.psd1'
    if (Test-Path $manifest) {
        Copy-Item $manifest $ModuleDir
    } else {
        # Keeps RESTORETOOLS_MODULE importable until the real manifest lands.
        Write-Warning "RestoreTools.psd1 is missing at the repo root; writing a minimal manifest into out/ only."
        New-ModuleManifest -Path $ModuleManifest -RootModule 'RestoreTools.dll' -ModuleVersion '0.1.0' `
            -CmdletsToExport '*' -FunctionsToExport @() -AliasesToExport @() -VariablesToExport @() `
            -CompatiblePSEditions Core -PowerShellVersion '7.6'
    }
    foreach ($xml in 'RestoreTools.Format.ps1xml', 'RestoreTools.Types.ps1xml') {
        $file = Join-Path $Root "src/Module/$xml"
        if (Test-Path $file) { Copy-Item $file $ModuleDir }
    }
    $help = Join-Path $Root 'src/Module/en-US'
    if (Test-Path $help) { Copy-Item $help $ModuleDir -Recurse -Force }

    Get-ChildItem $ModuleDir -Recurse -File | ForEach-Object {
        Write-Host ("    {0,10:N0}  {1}" -f $_.Length, [IO.Path]::GetRelativePath($OutDir, $_.FullName))
    }
}

function Invoke-AgentTask {
    # NativeAOT, one static executable: it runs in the restore VM's initramfs with no libc beside it.
    Write-Step "Agent (NativeAOT, static): $AgentBinary"
    Invoke-Native dotnet @('publish', (Join-Path $Root 'src/Agent/RestoreTools.Agent.csproj'), '-c', 'Release', '-r', 'linux-x64',
        '-p:StaticExecutable=true', '-p:PositionIndependentExecutable=false', '-o', $AgentDir, '--nologo')
    $size = (Get-Item $AgentBinary).Length
    Write-Host ("    restore-agent: {0:N1} MB" -f ($size / 1MB))
}

function Invoke-VmImageTask {
    Write-Step "Restore VM image: $VmDir"
    Invoke-Native bash @((Join-Path $Root 'vm/build-vm.sh'), '--agent', $AgentBinary, '--out', $VmDir)
}

function Invoke-SampleTask {
    Write-Step "Sample image: $SampleImage"
    Invoke-Native bash @((Join-Path $Root 'tools/New-SampleImage.sh'), $SampleImage)
}

function Invoke-CleanTask {
    Write-Step 'Clean'
    $mounts = Get-MountsBelow $OutDir
    if ($mounts) {
        throw "Refusing to clean: still mounted below out/: $($mounts -join ', '). Unmount first."
    }
    if (Test-Path $OutDir) { Remove-Item $OutDir -Recurse -Force; Write-Host "    removed out/" }
    Get-ChildItem $Root -Directory -Force | Where-Object Name -NotIn '.git', 'out' | ForEach-Object {
        if ($_.Name -in 'bin', 'obj') { $_ } else { Get-ChildItem $_.FullName -Directory -Recurse -Force -Include 'bin', 'obj' }
    } | Sort-Object { $_.FullName.Length } | ForEach-Object {
        if (Test-Path $_.FullName) {
            Remove-Item $_.FullName -Recurse -Force
            Write-Host "    removed $([IO.Path]::GetRelativePath($Root, $_.FullName))/"
        }
    }
}

function Invoke-UnitTests {
    # Returns @{ Passed; Failed; Skipped; RunnerError; Failures }
    Write-Step 'xunit: tests/Unit'
    $trx = Join-Path $ResultsDir 'unit.trx'
    if (Test-Path $trx) { Remove-Item $trx -Force }
    & dotnet test (Join-Path $Root 'tests/Unit') -c $Configuration --nologo `
        --logger 'trx;LogFileName=unit.trx' --logger 'console;verbosity=normal' --results-directory $ResultsDir | Out-Host
    $exit = $LASTEXITCODE
    $r = @{ Passed = 0; Failed = 0; Skipped = 0; RunnerError = $null; Failures = @() }
    if (-not (Test-Path $trx)) {
        $r.RunnerError = "dotnet test exited with $exit and wrote no $trx"
        return $r
    }
    try {
        $run = ([xml](Get-Content $trx -Raw)).TestRun
        $counters = $run.ResultSummary.Counters
        $r.Failures = @($run.Results.UnitTestResult | Where-Object { $_.outcome -ne 'Passed' -and $_.outcome -ne 'NotExecuted' } |
            ForEach-Object { "$($_.testName): $($_.Output.ErrorInfo.Message)" })
        $get = { param($Name) $v = $counters.GetAttribute($Name); if ($v) { [int]$v } else { 0 } }
        $r.Passed = & $get 'passed'
        $r.Failed = (& $get 'failed') + (& $get 'error') + (& $get 'timeout') + (& $get 'aborted')
        # The trx logger counts skipped tests only as total - executed (notExecuted stays 0).
        $r.Skipped = [Math]::Max((& $get 'notExecuted'), (& $get 'total') - (& $get 'executed'))
    } catch {
        $r.RunnerError = "cannot read the counters in ${trx}: $_"
        return $r
    }
    if ($exit -ne 0 -and $r.Failed -eq 0) {
        $r.RunnerError = "dotnet test exited with $exit although no test failed"
    }
    Write-Host "    xunit: $($r.Passed) passed, $($r.Failed) failed, $($r.Skipped) skipped ($trx)"
    return $r
}

function Get-PesterManifest {
    Invoke-Native dotnet @('restore', (Join-Path $Root 'tools/pester/Pester.Restore.csproj'), '--nologo', '-v', 'q')
    $line = @(& dotnet nuget locals global-packages -l) -match '^global-packages:' | Select-Object -First 1
    if (-not $line) { throw "'dotnet nuget locals global-packages -l' did not name the global packages folder." }
    $packages = ($line -replace '^global-packages:\s*', '').Trim()
    $psd1 = Join-Path $packages "pester/$PesterVersion/tools/Pester.psd1"
    if (-not (Test-Path $psd1)) { throw "Pester $PesterVersion not found at $psd1 after restore." }
    return $psd1
}

function Invoke-PesterTests {
    # Returns @{ Passed; Failed; Skipped; RunnerError; Failures }
    Write-Step 'Pester: tests/Pester/*.Tests.ps1'
    $r = @{ Passed = 0; Failed = 0; Skipped = 0; RunnerError = $null; Failures = @() }
    $files = @(Get-ChildItem (Join-Path $Root 'tests/Pester') -Filter '*.Tests.ps1' -File -Recurse -ErrorAction SilentlyContinue |
        Sort-Object FullName | ForEach-Object FullName)
    if ($files.Count -eq 0) {
        Write-Host '    no tests/Pester/*.Tests.ps1 files yet: Pester counts 0'
        return $r
    }
    try { $pester = Get-PesterManifest } catch { $r.RunnerError = "Pester unavailable: $_"; return $r }

    $null = New-Item -ItemType Directory -Path $ResultsDir -Force
    $summary = Join-Path $ResultsDir 'pester-summary.json'
    $runner = Join-Path $ResultsDir 'run-pester.ps1'
    if (Test-Path $summary) { Remove-Item $summary -Force }
    # Generated each run; executed in a fresh pwsh because a loaded module dll cannot be reloaded.
    Set-Content -Path $runner -Encoding utf8 -Value @'
param([string]$PesterManifest, [string]$SummaryPath, [string]$XmlPath, [string]$Paths)
$ErrorActionPreference = 'Stop'
Import-Module $PesterManifest -Force
$config = New-PesterConfiguration
$config.Run.Path = @($Paths -split "`n" | Where-Object { $_ })
$config.Run.PassThru = $true
$config.Run.Exit = $false
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = $true
$config.TestResult.OutputPath = $XmlPath
$result = Invoke-Pester -Configuration $config
[ordered]@{
    Result                = "$($result.Result)"
    PassedCount           = [int]$result.PassedCount
    FailedCount           = [int]$result.FailedCount
    SkippedCount          = [int]$result.SkippedCount
    NotRunCount           = [int]$result.NotRunCount
    TotalCount            = [int]$result.TotalCount
    FailedBlocksCount     = [int]$result.FailedBlocksCount
    FailedContainersCount = [int]$result.FailedContainersCount
    # What failed, by name and first error line, so that the last lines of a CI log say it.
    Failures              = @(
        @($result.Failed) + @($result.FailedBlocks) | Where-Object { $_ } | ForEach-Object {
            "$($_.ExpandedPath): $(@($_.ErrorRecord)[0])" }
        @($result.FailedContainers) | Where-Object { $_ } | ForEach-Object {
            "$($_.Item): $(@($_.ErrorRecord)[0])" })
} | ConvertTo-Json | Set-Content -Path $SummaryPath -Encoding utf8
exit 0
'@

    $env:RESTORETOOLS_MODULE = $ModuleManifest
    $env:RESTORETOOLS_SAMPLE = $SampleImage
    $env:RESTORETOOLS_AGENT = $AgentBinary
    $env:RESTORETOOLS_VM_DIR = $VmDir
    Write-Host "    Pester $PesterVersion from $pester"
    Write-Host "    RESTORETOOLS_MODULE=$env:RESTORETOOLS_MODULE"
    Write-Host "    RESTORETOOLS_SAMPLE=$env:RESTORETOOLS_SAMPLE"
    $exit = Invoke-FreshPwsh @('-File', $runner, '-PesterManifest', $pester, '-SummaryPath', $summary,
        '-XmlPath', (Join-Path $ResultsDir 'pester.xml'), '-Paths', ($files -join "`n"))
    if ($exit -ne 0 -or -not (Test-Path $summary)) {
        $r.RunnerError = "the Pester process exited with $exit without a result summary"
        return $r
    }
    $s = Get-Content $summary -Raw | ConvertFrom-Json
    $r.Passed = $s.PassedCount
    $r.Skipped = $s.SkippedCount
    $r.Failures = @($s.Failures | Where-Object { $_ })
    # Containers that failed (parse errors, failing top-level code) run no test: count each once.
    $r.Failed = $s.FailedCount + $s.FailedContainersCount
    if ($s.Result -ne 'Passed' -and $r.Failed -eq 0) {
        $r.Failed = [Math]::Max(1, $s.FailedBlocksCount)   # e.g. a failing AfterAll
    }
    Write-Host "    Pester: $($r.Passed) passed, $($r.Failed) failed, $($r.Skipped) skipped (result: $($s.Result))"
    return $r
}

function Invoke-TestTask {
    $null = New-Item -ItemType Directory -Path $ResultsDir -Force
    $unit = Invoke-UnitTests
    $pester = Invoke-PesterTests

    $passed = $unit.Passed + $pester.Passed
    $failed = $unit.Failed + $pester.Failed
    $skipped = $unit.Skipped + $pester.Skipped
    $problems = @()
    if ($unit.RunnerError) { $problems += "xunit runner failed: $($unit.RunnerError)" }
    if ($pester.RunnerError) { $problems += "Pester runner failed: $($pester.RunnerError)" }
    if ($failed -gt 0) { $problems += "$failed test(s) failed" }
    if ($passed + $failed -eq 0) { $problems += 'no test ran (xunit and Pester together ran 0 tests)' }

    Write-Host ''
    Write-Host "xunit:  $($unit.Passed) passed, $($unit.Failed) failed, $($unit.Skipped) skipped"
    Write-Host "Pester: $($pester.Passed) passed, $($pester.Failed) failed, $($pester.Skipped) skipped"
    $failures = @($unit.Failures) + @($pester.Failures) | Where-Object { $_ }
    foreach ($f in ($failures | Select-Object -First 10)) {
        # One line each, cut short: the end of a CI log is what gets read.
        $line = ($f -replace '\s+', ' ').Trim()
        if ($line.Length -gt 400) { $line = $line.Substring(0, 400) + '...' }
        Write-Host "  failed: $line" -ForegroundColor Red
    }
    foreach ($p in $problems) { Write-Host "FAILED: $p" -ForegroundColor Red }
    Write-Host "$passed passed, $failed failed, $skipped skipped"
    return ($problems.Count -eq 0)
}

function Invoke-DemoTask {
    Write-Step 'Demo: demo/Demo.ps1'
    $demo = Join-Path $Root 'demo/Demo.ps1'
    $exit = Invoke-FreshPwsh @('-File', $demo, '-ModulePath', $ModuleManifest, '-Image', $SampleImage)
    if ($exit -ne 0) { throw "demo/Demo.ps1 failed with exit code $exit." }
}

# ---------------------------------------------------------------------------------------
# Expand dependencies, keep the given order, run each task once.
$plan = [Collections.Generic.List[string]]::new()
foreach ($t in $Task) {
    $steps = switch ($t) {
        'Test' { 'Build', 'Sample', 'Agent', 'VmImage', 'Test' }
        'VmImage' { 'Agent', 'VmImage' }
        'Demo' { 'Build', 'Sample', 'Demo' }
        default { $t }
    }
    foreach ($s in $steps) { if (-not $plan.Contains($s)) { $plan.Add($s) } }
}

$ok = $true
try {
    if ($plan.Contains('Demo') -and -not (Test-Path (Join-Path $Root 'demo/Demo.ps1'))) {
        throw "demo/Demo.ps1 does not exist (yet): nothing to run for the Demo task."
    }
    if ($plan.Contains('Sample') -and (& id -u) -ne '0') {
        throw "The Sample task needs root (it sets file owners inside the image); run as root."
    }
    foreach ($t in $plan) {
        switch ($t) {
            'Build' { Invoke-BuildTask }
            'Sample' { Invoke-SampleTask }
            'Agent' { Invoke-AgentTask }
            'VmImage' { Invoke-VmImageTask }
            'Clean' { Invoke-CleanTask }
            'Demo' { Invoke-DemoTask }
            'Test' { if (-not (Invoke-TestTask)) { $ok = $false } }
        }
    }
} catch {
    Write-Host "build.ps1: $($_.Exception.Message)" -ForegroundColor Red
    if ($plan.Contains('Test')) {
        # The closing line stays parseable even when Build or Sample broke before the tests.
        Write-Host 'FAILED: the tests did not run'
        Write-Host '0 passed, 0 failed, 0 skipped'
    }
    exit 1
}
if (-not $ok) { exit 1 }
exit 0
