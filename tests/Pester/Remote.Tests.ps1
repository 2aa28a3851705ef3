#Requires -Version 7.4
# The module through a real restore-agent on a Unix socket (the agent runs on this host with the
# sample image attached): every answer must equal the local engine's for the same image.

BeforeAll {
    $ModulePath = if ($env:RESTORETOOLS_MODULE) { $env:RESTORETOOLS_MODULE } else { Join-Path $PSScriptRoot '../../out/RestoreTools/RestoreTools.psd1' }
    Import-Module (Resolve-Path -LiteralPath $ModulePath).ProviderPath -Force -ErrorAction Stop
    $Agent = if ($env:RESTORETOOLS_AGENT) { $env:RESTORETOOLS_AGENT } else { Join-Path $PSScriptRoot '../../out/agent/restore-agent' }
    $Sample = if ($env:RESTORETOOLS_SAMPLE) { $env:RESTORETOOLS_SAMPLE } else { Join-Path $PSScriptRoot '../../out/sample/sample.img' }

    $script:Work = Join-Path ([IO.Path]::GetTempPath()) "restoretools-remote-$PID"
    $null = New-Item -ItemType Directory -Path $Work -Force
    $script:Socket = Join-Path $Work 'agent.sock'
    $script:TokenFile = Join-Path $Work 'token'
    $script:AgentProcess = Start-Process -FilePath $Agent -PassThru -RedirectStandardError (Join-Path $Work 'agent.log') -ArgumentList @(
        '--host', '--listen', "unix:$Socket", '--token-file', $TokenFile, '--image', "sample.img=$Sample", '--state-dir', (Join-Path $Work 'state'))
    $deadline = [DateTime]::UtcNow.AddSeconds(20)
    while (-not (Test-Path $Socket) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
    $script:S = Connect-RestoreAgent -Socket $Socket -TokenFile $TokenFile
    $script:SampleSha = (Get-FileHash -LiteralPath $Sample -Algorithm SHA256).Hash
    $script:SamplePath = $Sample
    Mount-RestoreImage -Path $Sample -Name sample.img

    # Errors written by one command, as a list.
    function Get-Errors([scriptblock] $Script) {
        $ErrorActionPreference = 'Continue'
        , @(& $Script 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
    }
    function Get-TreeManifest([string] $Dir) {
        Get-ChildItem -LiteralPath $Dir -Recurse -Force | Sort-Object FullName | ForEach-Object {
            $rel = [IO.Path]::GetRelativePath($Dir, $_.FullName)
            if ($_.LinkType) { "$rel -> $($_.LinkTarget)" }
            elseif ($_.PSIsContainer) { "$rel/" }
            else { "$rel $((Get-FileHash -LiteralPath $_.FullName).Hash) $([Convert]::ToString([int]$_.UnixFileMode, 8))" }
        }
    }
}

AfterAll {
    Get-RestoreSession | Disconnect-RestoreAgent
    Dismount-RestoreImage -Name sample.img -ErrorAction SilentlyContinue
    if ($AgentProcess -and -not $AgentProcess.HasExited) {
        # SIGTERM lets the agent unmount and detach what it attached; SIGKILL only when it hangs.
        & kill -TERM $AgentProcess.Id
        if (-not $AgentProcess.WaitForExit(15000)) { $AgentProcess.Kill(); $AgentProcess.WaitForExit(5000) }
    }
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Connect-RestoreAgent' {
    It 'returns an open session over the Unix socket' {
        $S.IsOpen | Should -BeTrue
        $S.Transport | Should -Be 'unix'
        (Get-RestoreSession).Id | Should -Contain $S.Id
    }

    It 'refuses a wrong token with AgentUnauthorized' {
        $bad = ConvertTo-SecureString 'not-the-token' -AsPlainText -Force
        { Connect-RestoreAgent -Socket $Socket -Token $bad } | Should -Throw -ErrorId 'AgentUnauthorized*'
    }

    It 'says AgentUnreachable when nothing listens, and names the socket' {
        $missing = Join-Path $Work 'nobody.sock'
        { Connect-RestoreAgent -Socket $missing -TokenFile $TokenFile } | Should -Throw -ErrorId 'AgentUnreachable*' -ExpectedMessage "no agent socket at '$missing'*"
    }

    It 'refuses to connect without a token, rather than return a session whose every call fails' {
        { Connect-RestoreAgent -Socket $Socket } | Should -Throw -ErrorId 'AgentUnauthorized*' -ExpectedMessage '*serves nothing without its token*'
        @(Get-RestoreSession | Where-Object { -not $_.IsOpen }).Count | Should -Be 0
    }

    It 'refuses -Session $null instead of working on this host' {
        { Get-RestoreDisk -Session $null } | Should -Throw -ErrorId 'SessionIsNull*'
        { Get-RestoreChildItem -Path /sample.img/part/1 -Session $null } | Should -Throw -ErrorId 'SessionIsNull*'
    }

    It 'writes objects that carry their session, and piped on they use it' {
        $items = Get-RestoreChildItem -Session $S -Path /sample.img/part/1/etc
        $items[0].RestoreSession.Id | Should -Be $S.Id
        $dest = Join-Path $Work "piped-$([guid]::NewGuid().ToString('N'))"
        $null = New-Item -ItemType Directory -Path $dest
        # No -Session on Copy-RestoreItem: it comes with each item. The local sample is detached
        # meanwhile, so a copy that went to this host's engine would find no disk 'sample.img'.
        Dismount-RestoreImage -Name sample.img
        try {
            $items | Where-Object Name -eq 'hostname' | Copy-RestoreItem -Destination $dest
            Get-Content -LiteralPath (Join-Path $dest 'hostname') | Should -Be 'restore-demo'
            $bucket = Get-RestoreDisk -Session $S -Name sample.img | Get-RestoreBucket | Select-Object -First 1
            $bucket.RestoreSession.Id | Should -Be $S.Id
            ($bucket | Get-RestoreChildItem | Select-Object -First 1).RestoreSession.Id | Should -Be $S.Id
        }
        finally { $null = Mount-RestoreImage -Path $Sample -Name sample.img }
    }

    It 'created the token file with mode 0600' {
        (& stat -c %a $TokenFile) | Should -Be '600'
    }
}

Describe 'The same answers through the agent as locally' {
    It 'Get-RestoreDisk' {
        $local = Get-RestoreDisk -Name sample.img | Select-Object Name, Size, PartitionTable, @{ n = 'Types'; e = { $_.BucketTypes -join ',' } }
        $remote = Get-RestoreDisk -Name sample.img -Session $S | Select-Object Name, Size, PartitionTable, @{ n = 'Types'; e = { $_.BucketTypes -join ',' } }
        ($remote | ConvertTo-Json) | Should -Be ($local | ConvertTo-Json)
    }

    It 'Get-RestoreBucket' {
        $props = 'Path', 'Type', 'Component', 'Size', 'FileSystem', 'Label', 'Uuid', 'Start', 'PartitionType', 'PartitionUuid', 'PartitionName'
        $local = Get-RestoreBucket -Disk sample.img | Select-Object $props
        $remote = Get-RestoreBucket -Disk sample.img -Session $S | Select-Object $props
        $remote.Count | Should -Be 3
        ($remote | ConvertTo-Json) | Should -Be ($local | ConvertTo-Json)
    }

    It 'Resolve-RestorePath of partial paths' {
        $local = Resolve-RestorePath -Path /sample.img/part | Select-Object Name, Path, Kind, Size
        $remote = Resolve-RestorePath -Path /sample.img/part -Session $S | Select-Object Name, Path, Kind, Size
        ($remote | ConvertTo-Json) | Should -Be ($local | ConvertTo-Json)
    }

    It 'Get-RestoreChildItem -Recurse' {
        $props = 'Name', 'Path', 'Type', 'Size', 'Mode', 'Uid', 'Gid', 'LinkTarget', @{ n = 'Mtime'; e = { $_.LastWriteTime.ToUnixTimeSeconds() } }
        $local = Get-RestoreChildItem -Path /sample.img/part/1 -Recurse | Sort-Object Path | Select-Object $props
        $remote = Get-RestoreChildItem -Path /sample.img/part/1 -Recurse -Session $S | Sort-Object Path | Select-Object $props
        $remote.Count | Should -BeGreaterThan 5
        ($remote | ConvertTo-Json) | Should -Be ($local | ConvertTo-Json)
    }

    It 'Get-RestoreContent' {
        Get-RestoreContent -Path /sample.img/part/1/etc/hostname -Session $S | Should -Be 'restore-demo'
        # -Tail reads ranges from the end through the agent, and gives what the local engine gives.
        (Get-RestoreContent -Path /sample.img/part/1/etc/passwd -Tail 2 -Session $S) | Should -Be (Get-RestoreContent -Path /sample.img/part/1/etc/passwd -Tail 2)
        @(Get-RestoreContent -Path /sample.img/part/1/etc/passwd -Tail 2 -Session $S).Count | Should -Be 2
        (Get-RestoreContent -Path /sample.img/part/2/reports/2026/summary.txt -Raw -Session $S) |
            Should -Be (Get-RestoreContent -Path /sample.img/part/2/reports/2026/summary.txt -Raw)
        (Get-RestoreContent -Path /sample.img/part/1/etc/passwd -TotalCount 2 -Session $S) |
            Should -Be (Get-RestoreContent -Path /sample.img/part/1/etc/passwd -TotalCount 2)
    }

    It 'Copy-RestoreItem gives the same tree' {
        $l = New-Item -ItemType Directory -Path (Join-Path $Work 'copy-local') -Force
        $r = New-Item -ItemType Directory -Path (Join-Path $Work 'copy-remote') -Force
        Copy-RestoreItem -Path /sample.img/part/1/home -Destination $l -Recurse
        Copy-RestoreItem -Path /sample.img/part/1/home -Destination $r -Recurse -Session $S
        $m = Get-TreeManifest $r
        $m.Count | Should -BeGreaterThan 1
        ($m -join "`n") | Should -Be ((Get-TreeManifest $l) -join "`n")
    }

    It 'Export-RestoreItem gives an archive with the same entries' {
        $l = Join-Path $Work 'local.tar'
        $r = Join-Path $Work 'remote.tar'
        Export-RestoreItem -Path /sample.img/part/1/etc -Destination $l
        Export-RestoreItem -Path /sample.img/part/1/etc -Destination $r -Session $S
        $rl = (& tar -tvf $r | Sort-Object) -join "`n"
        $rl | Should -Match 'etc/localtime -> /usr/share/zoneinfo/UTC'
        $rl | Should -Be ((& tar -tvf $l | Sort-Object) -join "`n")
    }

    It 'gives the same error ids for bad paths' -ForEach @(
        @{ Path = '/no-such-disk/part/1'; Id = 'DiskNotFound' }
        @{ Path = '/sample.img/lvm'; Id = 'BucketTypeNotFound' }
        @{ Path = '/sample.img/part/9'; Id = 'ComponentNotFound' }
        @{ Path = '/sample.img/part/1/etc/nothing'; Id = 'ItemNotFound' }
        @{ Path = 'relative/path'; Id = 'InvalidPath' }
    ) {
        $local = Get-Errors { Resolve-RestorePath -Path $Path }
        $remote = Get-Errors { Resolve-RestorePath -Path $Path -Session $S }
        $local[0].FullyQualifiedErrorId | Should -BeLike "$Id,*"
        $remote[0].FullyQualifiedErrorId | Should -Be $local[0].FullyQualifiedErrorId
    }
}

Describe 'Warnings through the agent' {
    It 'warns of a GPT without its protective MBR, as the local engine does' {
        $img = Join-Path $Work 'noprot.img'
        & truncate -s 16M $img
        "label: gpt`nsize=8MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4`n" | & sfdisk -q --no-reread --no-tell-kernel $img | Out-Null
        & dd if=/dev/zero of=$img bs=512 count=1 conv=notrunc status=none
        $null = Mount-RestoreImage -Session $S -Path $img -Name noprot
        try {
            $disk = Get-RestoreDisk -Session $S -Name noprot -WarningVariable warned -WarningAction SilentlyContinue
            $disk.PartitionTable | Should -Be 'gpt'
            ($warned -join "`n") | Should -Match "disk 'noprot': .*protective MBR"
        }
        finally { Dismount-RestoreImage -Session $S -Name noprot }
    }
}

Describe 'Disconnect-RestoreAgent' {
    It 'closes the session; the image is unchanged' {
        $extra = Connect-RestoreAgent -Socket $Socket -TokenFile $TokenFile
        $extra | Disconnect-RestoreAgent
        $extra.IsOpen | Should -BeFalse
        (Get-RestoreSession).Id | Should -Not -Contain $extra.Id
        (Get-FileHash -LiteralPath $SamplePath -Algorithm SHA256).Hash | Should -Be $SampleSha
    }
}

Describe 'Stopping the agent' {
    It 'unmounts and detaches what it attached (SIGTERM)' {
        $local = (Get-RestoreDisk -Name sample.img).Device
        & kill -TERM $AgentProcess.Id
        $AgentProcess.WaitForExit(15000) | Should -BeTrue
        $AgentProcess.ExitCode | Should -Be 0
        # Only this session's own loop device still holds the sample image.
        @(& losetup -j $SamplePath -O NAME --noheadings) | Should -Be @($local)
        @(Get-Content /proc/mounts | Where-Object { $_ -like "*$Work*" }) | Should -BeNullOrEmpty
    }
}
