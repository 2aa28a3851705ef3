#Requires -Version 7.4
# Export-RestoreItem collecting every -Path value and piped item into ONE archive (as Compress-Archive),
# and Copy-RestoreItem -Include/-Exclude/-Filter/-Container, on real ext4 images: on this host and
# through a real restore-agent on a Unix socket (issue 14, points 4 and 5).

BeforeAll {
    $ModulePath = if ($env:RESTORETOOLS_MODULE) { $env:RESTORETOOLS_MODULE } else { Join-Path $PSScriptRoot '../../out/RestoreTools/RestoreTools.psd1' }
    $script:ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
    Import-Module $ModulePath -Force -ErrorAction Stop
    $Agent = if ($env:RESTORETOOLS_AGENT) { $env:RESTORETOOLS_AGENT } else { Join-Path $PSScriptRoot '../../out/agent/restore-agent' }

    function Invoke-Tool([string] $File, [string[]] $ArgumentList) {
        $out = & $File @ArgumentList 2>&1
        if ($LASTEXITCODE -ne 0) { throw "$File $($ArgumentList -join ' ') failed ($LASTEXITCODE): $out" }
        $out
    }
    function Get-Errors([scriptblock] $Script) {
        $ErrorActionPreference = 'Continue'
        , @(& $Script 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
    }
    # name -> sha256 of every file below a folder (relative names, '/' separated).
    function Get-Hashes([string] $Dir) {
        $map = [ordered]@{}
        Get-ChildItem -LiteralPath $Dir -Recurse -File -Force | Sort-Object FullName | ForEach-Object {
            $map[[IO.Path]::GetRelativePath($Dir, $_.FullName)] = (Get-FileHash -LiteralPath $_.FullName -Algorithm SHA256).Hash
        }
        $map
    }
    # name -> sha256 of every file entry of a zip, read back with System.IO.Compression.
    function Get-ZipHashes([string] $Zip) {
        $map = [ordered]@{}
        $z = [IO.Compression.ZipFile]::OpenRead($Zip)
        try {
            foreach ($e in $z.Entries | Where-Object { -not $_.FullName.EndsWith('/') } | Sort-Object FullName) {
                $s = $e.Open()
                try { $map[$e.FullName] = [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($s)) } finally { $s.Dispose() }
            }
        } finally { $z.Dispose() }
        $map
    }

    $script:Work = Join-Path ([IO.Path]::GetTempPath()) "restoretools-exportpipe-$PID"
    $null = New-Item -ItemType Directory -Path $Work -Force
    $script:TreeA = Join-Path $Work 'a'
    $script:TreeB = Join-Path $Work 'b'
    foreach ($d in "$TreeA/etc", "$TreeA/data/sub/deeper", "$TreeB/etc") { $null = New-Item -ItemType Directory -Path $d -Force }
    [IO.File]::WriteAllText("$TreeA/etc/hostname", "pipe-host`n")
    [IO.File]::WriteAllText("$TreeA/etc/hosts", "127.0.0.1 a`n")
    [IO.File]::WriteAllText("$TreeA/etc/passwd", "root:x:0:0::/root:/bin/sh`n")
    [IO.File]::WriteAllText("$TreeA/etc/os.conf", "os`n")
    $bytes = [byte[]]::new(300KB + 3); [Random]::new(11).NextBytes($bytes)
    [IO.File]::WriteAllBytes("$TreeA/etc/blob.bin", $bytes)
    [IO.File]::WriteAllText("$TreeA/data/report.txt", "top report`n")
    [IO.File]::WriteAllText("$TreeA/data/notes.md", "notes`n")
    [IO.File]::WriteAllText("$TreeA/data/sub/report.txt", "sub report`n")
    [IO.File]::WriteAllText("$TreeA/data/sub/other.bin", "other")
    [IO.File]::WriteAllText("$TreeA/data/sub/deeper/plan.txt", "plan`n")
    [IO.File]::WriteAllText("$TreeB/etc/hosts", "127.0.0.1 b`n")
    $script:ImageA = Join-Path $Work 'a.img'
    $script:ImageB = Join-Path $Work 'b.img'
    Invoke-Tool truncate @('-s', '24M', $ImageA, $ImageB)
    Invoke-Tool mkfs.ext4 @('-q', '-F', '-d', $TreeA, $ImageA)
    Invoke-Tool mkfs.ext4 @('-q', '-F', '-d', $TreeB, $ImageB)

    $script:A = "pa$PID"
    $script:B = "pb$PID"
    $null = Mount-RestoreImage -LiteralPath $ImageA -Name $A -ErrorAction Stop
    $null = Mount-RestoreImage -LiteralPath $ImageB -Name $B -ErrorAction Stop

    # The same images behind a real agent on a Unix socket.
    $script:Socket = Join-Path $Work 'agent.sock'
    $script:TokenFile = Join-Path $Work 'token'
    $script:AgentProcess = Start-Process -FilePath $Agent -PassThru -RedirectStandardError (Join-Path $Work 'agent.log') -ArgumentList @(
        '--host', '--listen', "unix:$Socket", '--token-file', $TokenFile, '--image', "$A=$ImageA", '--image', "$B=$ImageB", '--state-dir', (Join-Path $Work 'state'))
    $deadline = [DateTime]::UtcNow.AddSeconds(20)
    while (-not (Test-Path $Socket) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
    $script:S = Connect-RestoreAgent -Socket $Socket -TokenFile $TokenFile
}

AfterAll {
    if (Get-Module RestoreTools) {
        Get-RestoreSession | Disconnect-RestoreAgent
        foreach ($n in $A, $B) { if ($n) { Dismount-RestoreImage -Name $n -Confirm:$false -ErrorAction SilentlyContinue } }
        Remove-Module RestoreTools -Force
    }
    if ($AgentProcess -and -not $AgentProcess.HasExited) {
        & kill -TERM $AgentProcess.Id
        if (-not $AgentProcess.WaitForExit(15000)) { $AgentProcess.Kill(); $AgentProcess.WaitForExit(5000) }
    }
    if ($Work -and (Test-Path -LiteralPath $Work)) { Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'Export-RestoreItem collects its input into one archive (<Way>)' -ForEach @(
    @{ Way = 'on this host'; Remote = $false }
    @{ Way = 'through an agent'; Remote = $true }
) {
    BeforeAll {
        $script:Sp = if ($Remote) { @{ Session = $S } } else { @{} }
    }
    BeforeEach {
        $script:Dest = Join-Path $Work "out-$([guid]::NewGuid().ToString('N'))"
        $null = New-Item -ItemType Directory -Path $Dest
    }

    It 'Get-RestoreChildItem .../etc | Export-RestoreItem writes one archive holding every item' {
        $items = @(Get-RestoreChildItem @Sp "/$A/raw/etc")
        $items.Count | Should -Be 5
        $errs = Get-Errors { $items | Export-RestoreItem -Destination "$Dest/multi.tar" }
        $errs.Count | Should -Be 0
        @(Get-ChildItem $Dest -Force).Name | Should -Be 'multi.tar'
        (Invoke-Tool tar @('-tf', "$Dest/multi.tar") | Sort-Object) | Should -Be @('blob.bin', 'hostname', 'hosts', 'os.conf', 'passwd')
        $x = Join-Path $Dest 'x'
        $null = New-Item -ItemType Directory -Path $x
        Invoke-Tool tar @('-C', $x, '-xf', "$Dest/multi.tar")
        $got = Get-Hashes $x
        $want = Get-Hashes "$TreeA/etc"
        ($got.Keys -join ',') | Should -Be ($want.Keys -join ',')
        foreach ($k in $want.Keys) { $got[$k] | Should -Be $want[$k] -Because $k }
    }

    It 'takes several -Path values, files and folders, into one zip' {
        Export-RestoreItem @Sp -Path "/$A/raw/etc/hostname", "/$A/raw/data/sub", "/$B/raw/etc/hosts" -Destination "$Dest/several.zip"
        $got = Get-ZipHashes "$Dest/several.zip"
        ($got.Keys -join ',') | Should -Be 'hostname,hosts,sub/deeper/plan.txt,sub/other.bin,sub/report.txt'
        $got['hosts'] | Should -Be (Get-FileHash "$TreeB/etc/hosts").Hash
        $got['sub/deeper/plan.txt'] | Should -Be (Get-FileHash "$TreeA/data/sub/deeper/plan.txt").Hash
        $got['hostname'] | Should -Be (Get-FileHash "$TreeA/etc/hostname").Hash
    }

    It 'refuses two items with one name (NameInUse) and writes nothing' {
        $errs = Get-Errors { Export-RestoreItem @Sp -Path "/$A/raw/etc/hosts", "/$B/raw/etc/hosts" -Destination "$Dest/clash.tar" }
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'NameInUse,*'
        "$($errs[0])" | Should -BeLike "*/$A/raw/etc/hosts*/$B/raw/etc/hosts*'hosts'*"
        @(Get-ChildItem $Dest -Force).Count | Should -Be 0
    }

    It 'refuses -Format Raw with several items, and a folder as the destination of several' {
        $errs = Get-Errors { Export-RestoreItem @Sp -Path "/$A/raw/etc/hosts", "/$A/raw/etc/passwd" -Destination "$Dest/x.raw" -Format Raw }
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'NotSupported,*'
        "$($errs[0])" | Should -BeLike '*-Format Raw writes one file*2 items*'
        $errs = Get-Errors { Export-RestoreItem @Sp -Path "/$A/raw/etc/hosts", "/$A/raw/etc/passwd" -Destination $Dest }
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'InvalidPath,*'
        "$($errs[0])" | Should -BeLike '*name the archive file*'
        @(Get-ChildItem $Dest -Force).Count | Should -Be 0
    }

    It 'names a missing item and writes the others (as tar does)' {
        $errs = Get-Errors { Export-RestoreItem @Sp -Path "/$A/raw/etc/hosts", "/$A/raw/nope", "/$A/raw/etc/passwd" -Destination "$Dest/some.tar" }
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'ItemNotFound,*'
        (Invoke-Tool tar @('-tf', "$Dest/some.tar") | Sort-Object) | Should -Be @('hosts', 'passwd')
    }

    It 'never overwrites without -Force, overwrites with it; -WhatIf writes nothing' {
        Set-Content -LiteralPath "$Dest/m.tar" -Value 'mine' -NoNewline
        $errs = Get-Errors { Get-RestoreChildItem @Sp "/$A/raw/etc" | Export-RestoreItem -Destination "$Dest/m.tar" }
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'TargetExists,*'
        $errs[0].TargetObject | Should -Be "$Dest/m.tar"
        Get-Content -Raw "$Dest/m.tar" | Should -BeExactly 'mine'
        Get-RestoreChildItem @Sp "/$A/raw/etc" | Export-RestoreItem -Destination "$Dest/m.tar" -Force
        @(Invoke-Tool tar @('-tf', "$Dest/m.tar")).Count | Should -Be 5
        Get-RestoreChildItem @Sp "/$A/raw/etc" | Export-RestoreItem -Destination "$Dest/w.tar" -WhatIf
        @(Get-ChildItem $Dest -Force).Name | Should -Be 'm.tar'
    }

    It '-Include and -Exclude pick the files of the walk; folders stay' {
        Export-RestoreItem @Sp -Path "/$A/raw/etc", "/$A/raw/data" -Destination "$Dest/f.tar.gz" -Include '*.txt', '*.CONF' -Exclude 'report*'
        (Invoke-Tool tar @('-tzf', "$Dest/f.tar.gz") | Sort-Object) |
            Should -Be @('data/', 'data/sub/', 'data/sub/deeper/', 'data/sub/deeper/plan.txt', 'etc/', 'etc/os.conf')
    }

    It 'keeps a single folder under its name and a single file raw, as before' {
        Export-RestoreItem @Sp "/$A/raw/data/sub" -Destination $Dest
        (Invoke-Tool tar @('-tf', "$Dest/sub.tar") | Sort-Object)[0] | Should -Be 'sub/'
        Get-RestoreChildItem @Sp "/$A/raw/etc/blob.bin" | Export-RestoreItem -Destination "$Dest/blob.copy"
        (Get-FileHash "$Dest/blob.copy").Hash | Should -Be (Get-FileHash "$TreeA/etc/blob.bin").Hash
    }
}

Describe 'Export-RestoreItem with items of several sessions' {
    It 'refuses items from this host and from an agent in one pipeline (SessionsDiffer) and writes nothing' {
        $dest = Join-Path $Work "mixed-$PID.tar"
        $items = @(Get-RestoreChildItem "/$A/raw/etc/hosts") + @(Get-RestoreChildItem -Session $S "/$A/raw/etc/passwd")
        { $items | Export-RestoreItem -Destination $dest -ErrorAction Stop } | Should -Throw -ErrorId 'SessionsDiffer*' -ExpectedMessage "*comes through session $($S.Id)*this host*"
        Test-Path $dest | Should -BeFalse
    }

    It 'writes one progress activity for several items' {
        $dest = Join-Path $Work "progress-$PID.tar"
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddCommand('Import-Module').AddParameter('Name', $ModulePath).AddStatement().
                AddCommand('Export-RestoreItem').AddParameter('Path', [string[]]@("/$A/raw/etc", "/$A/raw/data")).AddParameter('Destination', $dest)
            $null = $ps.Invoke()
            $ps.Streams.Error.Count | Should -Be 0
            $ps.Streams.Progress.Count | Should -BeGreaterThan 0
            @($ps.Streams.Progress.Activity | Select-Object -Unique) | Should -Be 'Export-RestoreItem 2 items'
        } finally { $ps.Dispose() }
        @(Invoke-Tool tar @('-tf', $dest)).Count | Should -Be 14
    }
}

Describe 'Copy-RestoreItem -Include, -Exclude, -Filter and -Container (<Way>)' -ForEach @(
    @{ Way = 'on this host'; Remote = $false }
    @{ Way = 'through an agent'; Remote = $true }
) {
    BeforeAll {
        $script:Sp = if ($Remote) { @{ Session = $S } } else { @{} }
    }
    BeforeEach {
        $script:Dest = Join-Path $Work "copy-$([guid]::NewGuid().ToString('N'))"
        $null = New-Item -ItemType Directory -Path $Dest
    }

    It '-Include and -Exclude pick files by name, folders are always walked' {
        Copy-RestoreItem @Sp "/$A/raw/data" -Destination $Dest -Recurse -Include '*.txt', '*.md' -Exclude 'notes*'
        (Get-ChildItem $Dest -Recurse -File | ForEach-Object { [IO.Path]::GetRelativePath($Dest, $_.FullName) } | Sort-Object) |
            Should -Be @('data/report.txt', 'data/sub/deeper/plan.txt', 'data/sub/report.txt')
        (Get-FileHash "$Dest/data/sub/deeper/plan.txt").Hash | Should -Be (Get-FileHash "$TreeA/data/sub/deeper/plan.txt").Hash
    }

    It '-Filter takes one more wildcard every file must match' {
        Copy-RestoreItem @Sp "/$A/raw/etc" -Destination $Dest -Recurse -Filter 'host*' -Exclude '*s'
        @(Get-ChildItem "$Dest/etc" -File).Name | Should -Be 'hostname'
    }

    It '-Container:$false puts the files side by side, one error per clashing name, never overwriting' {
        Set-Content -LiteralPath "$Dest/other.bin" -Value 'mine' -NoNewline
        $errs = Get-Errors { Copy-RestoreItem @Sp "/$A/raw/data" -Destination $Dest -Recurse -Container:$false }
        @(Get-ChildItem $Dest -Directory).Count | Should -Be 0
        (Get-ChildItem $Dest -File).Name | Sort-Object | Should -Be @('notes.md', 'other.bin', 'plan.txt', 'report.txt')
        Get-Content -Raw "$Dest/other.bin" | Should -BeExactly 'mine'
        $errs.Count | Should -Be 2
        ($errs | Where-Object { $_.FullyQualifiedErrorId -like 'TargetExists,*' }).TargetObject | Should -Be "$Dest/other.bin"
        "$($errs | Where-Object { $_.FullyQualifiedErrorId -notlike 'TargetExists,*' })" | Should -BeLike "*report.txt*already copied from*"

        # -Force replaces what was there before, never a file this copy wrote.
        $errs = Get-Errors { Copy-RestoreItem @Sp "/$A/raw/data" -Destination $Dest -Recurse -Container:$false -Force }
        Get-Content -Raw "$Dest/other.bin" | Should -BeExactly 'other'
        $errs.Count | Should -Be 1
        "$($errs[0])" | Should -BeLike '*already copied from*'
    }

    It '-Container:$false with -Include into a folder it makes' {
        Copy-RestoreItem @Sp "/$A/raw/data" -Destination "$Dest/flat" -Recurse -Container:$false -Include '*.txt' -Exclude 'report*'
        @(Get-ChildItem "$Dest/flat").Name | Should -Be 'plan.txt'
    }

    It 'items piped from Get-RestoreChildItem take the filters too' {
        Get-RestoreChildItem @Sp "/$A/raw/etc" | Copy-RestoreItem -Destination $Dest -Include '*.conf', 'pass*'
        (Get-ChildItem $Dest).Name | Sort-Object | Should -Be @('os.conf', 'passwd')
    }
}
