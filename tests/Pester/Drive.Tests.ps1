#Requires -Version 7.4
# Pester 6 tests of the Restore: drive (the RestoreTools navigation provider) on the build's sample
# image and on a raw ext4 image whose names hold '\', '*', '[', '%5C' and a byte that is not UTF-8;
# then through a restore agent's session (New-PSDrive -Session). Needs root: loop devices, mount.

BeforeDiscovery {
    $script:HasAgent = Test-Path -LiteralPath $(if ($env:RESTORETOOLS_AGENT) { $env:RESTORETOOLS_AGENT } else { Join-Path $PSScriptRoot '../../out/agent/restore-agent' })
    # The restore VM's kernel and initramfs come from './build.sh VmImage'.
    $script:HasVm = Test-Path -LiteralPath (Join-Path $PSScriptRoot '../../out/vm/vmlinux')
}

BeforeAll {
    $ModulePath = if ($env:RESTORETOOLS_MODULE) { $env:RESTORETOOLS_MODULE } else { Join-Path $PSScriptRoot '../../out/RestoreTools/RestoreTools.psd1' }
    Import-Module (Resolve-Path -LiteralPath $ModulePath).ProviderPath -Force -ErrorAction Stop
    $script:Sample = if ($env:RESTORETOOLS_SAMPLE) { $env:RESTORETOOLS_SAMPLE } else { Join-Path $PSScriptRoot '../../out/sample/sample.img' }
    $script:Agent = if ($env:RESTORETOOLS_AGENT) { $env:RESTORETOOLS_AGENT } else { Join-Path $PSScriptRoot '../../out/agent/restore-agent' }

    function Invoke-Tool([string] $File, [string[]] $ArgumentList) {
        $out = & $File @ArgumentList 2>&1
        if ($LASTEXITCODE -ne 0) { throw "$File $($ArgumentList -join ' ') failed ($LASTEXITCODE): $out" }
    }
    function Get-Errors([scriptblock] $Script) {
        $ErrorActionPreference = 'Continue'
        , @(& $Script 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
    }
    function Get-Completion([string] $Line) { (TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText }

    $script:Work = Join-Path ([IO.Path]::GetTempPath()) "restoretools-drive-$PID"
    $null = New-Item -ItemType Directory -Path $Work -Force

    # Names PowerShell paths trip on: '\' (a separator to PowerShell), wildcards, the drive's own
    # escape written out, systemd's \x2d, and a Latin-1 byte (the engine shows it as \xE9).
    $tree = Join-Path $Work 'tree'
    Invoke-Tool bash @('-c', @'
set -e
t="$1"
mkdir -p "$t/etc" "$t/dir\with\back"
printf 'backslash\n' > "$t/back\slash.txt"
printf 'star\n' > "$t/star*name.txt"
printf 'pct\n' > "$t/pct%5Cname.txt"
printf 'unit\n' > "$t/dev-disk-by\x2duuid.swap"
printf 'bracket\n' > "$t/[br]acket.txt"
printf 'latin1\n' > "$t/caf"$'\xe9'".txt"
printf 'inner\n' > "$t/dir\with\back/inner.conf"
printf 'a=1\n' > "$t/etc/app.conf"
'@, 'bash', $tree)
    $script:HostileImage = Join-Path $Work 'hostile.img'
    Invoke-Tool truncate @('-s', '16M', $HostileImage)
    Invoke-Tool mkfs.ext4 @('-q', '-F', '-L', 'hostile', '-d', $tree, $HostileImage)

    $script:D = "drv$PID.img"
    $script:H = "hst$PID"
    $script:SampleHash = (Get-FileHash -LiteralPath $Sample -Algorithm SHA256).Hash
    $null = Mount-RestoreImage -LiteralPath $Sample -Name $D -ErrorAction Stop
    $null = Mount-RestoreImage -LiteralPath $HostileImage -Name $H -ErrorAction Stop
    $script:Etc = "Restore:/$D/part/1/etc"
}

AfterAll {
    Set-Location -LiteralPath $PSScriptRoot
    Get-PSDrive -PSProvider RestoreTools -ErrorAction SilentlyContinue | Where-Object Name -ne 'Restore' | Remove-PSDrive -ErrorAction SilentlyContinue
    Get-RestoreSession | Disconnect-RestoreAgent -ErrorAction SilentlyContinue
    foreach ($n in $D, $H) { if ($n) { Dismount-RestoreImage -Name $n -Confirm:$false -ErrorAction SilentlyContinue } }
    if ($AgentProcess -and -not $AgentProcess.HasExited) {
        & kill -TERM $AgentProcess.Id
        if (-not $AgentProcess.WaitForExit(15000)) { $AgentProcess.Kill(); $AgentProcess.WaitForExit(5000) }
    }
    # rm: the copies hold a name that is not UTF-8, which Remove-Item cannot name.
    if ($Work -and (Test-Path -LiteralPath $Work)) { & rm -rf -- $Work }
}

Describe 'The drive' {
    It 'exists after import: Restore: on the RestoreTools provider, rooted at /' {
        $drive = Get-PSDrive -Name Restore
        $drive.Provider.Name | Should -Be 'RestoreTools'
        $drive.Root | Should -Be '/'
        $drive.GetType().Name | Should -Be 'RestoreDriveInfo'
        $drive.Session | Should -BeNullOrEmpty
    }

    It 'is made by New-PSDrive -PSProvider RestoreTools -Root /, also rooted deeper' {
        $r = New-PSDrive -Name "R$PID" -PSProvider RestoreTools -Root /
        try { (Get-ChildItem "R$($PID):/$D/part/1/etc" -Name) | Should -Contain 'hostname' }
        finally { Remove-PSDrive -Name "R$PID" }
        $null = New-PSDrive -Name "E$PID" -PSProvider RestoreTools -Root "/$D/part/1/etc"
        try {
            Get-Content "E$($PID):/hostname" | Should -Be 'restore-demo'
            (Get-Item "E$($PID):/passwd").Path | Should -Be "E$($PID):/passwd"
        }
        finally { Remove-PSDrive -Name "E$PID" }
    }

    It 'refuses a root that does not exist' {
        $e = Get-Errors { New-PSDrive -Name "X$PID" -PSProvider RestoreTools -Root "/no-such-disk-$PID" }
        $e.Count | Should -BeGreaterThan 0
        $e[0].FullyQualifiedErrorId | Should -BeLike 'DiskNotFound*'
        Get-PSDrive -Name "X$PID" -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'lists disks at its root as the engine''s RestoreDisk objects, as containers' {
        $disk = Get-ChildItem Restore:/ | Where-Object Name -eq $D
        $disk.GetType().FullName | Should -Be 'RestoreTools.Engine.RestoreDisk'
        $disk.PSIsContainer | Should -BeTrue
        $disk.PSChildName | Should -Be $D
        $disk.PartitionTable | Should -Be 'gpt'
    }

    It 'lists a disk''s bucket types, and a type''s buckets as RestoreBucket objects' {
        (Get-ChildItem "Restore:/$D").Name | Should -Be @('part')
        $buckets = Get-ChildItem "Restore:\$D\part"
        $buckets.Component | Should -Be @('1', '2', '3')
        $buckets[0].GetType().FullName | Should -Be 'RestoreTools.Engine.RestoreBucket'
        $buckets[0].FileSystem | Should -Be 'ext4'
        $buckets.PSIsContainer | Should -Be @($true, $true, $true)
        (Get-Item "Restore:/$D/part/2").Label | Should -Be 'data'
    }

    It 'navigates with Set-Location, either separator, and lists the folder as RestoreItems' {
        Push-Location
        try {
            Set-Location "Restore:\$D\part\1\etc"
            (Get-Location).Path | Should -Be "Restore:/$D/part/1/etc"
            $items = Get-ChildItem
            ($items.Name | Sort-Object) | Should -Be @('hostname', 'localtime', 'passwd')
            $items[0].GetType().FullName | Should -Be 'RestoreTools.Engine.Browsing.RestoreItem'
            ($items | Where-Object Name -eq 'localtime').LinkTarget | Should -Be '/usr/share/zoneinfo/UTC'
            Get-Content hostname | Should -Be 'restore-demo'
            Set-Location ../home/alice
            Get-Content ./notes.txt | Should -BeLike 'Alice notes:*'
            Set-Location Restore:/
            (Get-Location).Path | Should -Be 'Restore:/'
        }
        finally { Pop-Location }
    }

    It 'gives Path as the item''s drive path and RestorePath as the engine''s' {
        $i = Get-Item "$Etc/hostname"
        $i.Path | Should -Be "$Etc/hostname"
        $i.RestorePath | Should -Be "/$D/part/1/etc/hostname"
        $i.PSPath | Should -Be "RestoreTools\RestoreTools::/$D/part/1/etc/hostname"
        $i.PSParentPath | Should -Be "RestoreTools\RestoreTools::/$D/part/1/etc"
        $i.Size | Should -Be 13
    }

    It 'recurses with -Filter, -Include, -Exclude, -Depth and -Name' {
        $txt = Get-ChildItem "Restore:/$D/part/1", "Restore:/$D/part/2" -Recurse -Filter *.txt
        ($txt.RestorePath | Sort-Object) | Should -Be @("/$D/part/1/home/alice/notes.txt", "/$D/part/2/reports/2026/summary.txt")
        (Get-ChildItem "Restore:/$D/part/1" -Recurse -Include host*, pass*).Name | Sort-Object | Should -Be @('hostname', 'passwd')
        (Get-ChildItem $Etc -Exclude pass*).Name | Sort-Object | Should -Be @('hostname', 'localtime')
        (Get-ChildItem "Restore:/$D/part/1" -Depth 0).Name | Should -Not -Contain 'hostname'
        (Get-ChildItem "Restore:/$D/part/1" -Depth 1).Name | Should -Contain 'hostname'
        Get-ChildItem "Restore:/$D/part/1/home" -Recurse -Name | Sort-Object | Should -Be @('alice', 'alice/notes.txt')
    }

    It 'takes -File and -Directory, also with -Recurse and -Name' {
        (Get-ChildItem "Restore:/$D/part/1" -Recurse -File).Name | Sort-Object | Should -Be @('hostname', 'localtime', 'notes.txt', 'passwd', 'UTC')
        Get-ChildItem "Restore:/$D/part/1/home" -Recurse -Directory -Name | Should -Be @('alice')
        (Get-ChildItem "Restore:/$D/part/1/etc" -File -Name | Sort-Object) | Should -Be @('hostname', 'localtime', 'passwd')
        (Get-ChildItem "Restore:/$D" -Directory).Name | Should -Be @('part')
    }

    It 'never follows a symlink while recursing' {
        # /etc/localtime points at /usr/share/zoneinfo/UTC, a file; the walk lists the link itself.
        $l = Get-ChildItem "Restore:/$D/part/1" -Recurse -Filter localtime
        $l.Type | Should -Be 'Symlink'
    }

    It 'reads with Get-Content: lines, -Raw, -AsByteStream, -TotalCount, -ReadCount' {
        Get-Content "$Etc/passwd" | Should -HaveCount 3
        Get-Content "$Etc/passwd" -TotalCount 1 | Should -BeLike 'root:*'
        (Get-Content "$Etc/passwd" -ReadCount 0)[-1] | Should -BeLike 'alice:*'
        Get-Content "$Etc/hostname" -Raw | Should -Be "restore-demo`n"
        $bytes = Get-Content "$Etc/hostname" -AsByteStream -Raw
        [Text.Encoding]::ASCII.GetString($bytes) | Should -Be "restore-demo`n"
        (Get-Content "$Etc/hostname" -AsByteStream -TotalCount 3) | Should -Be @(114, 101, 115)
        # The link resolves inside the image, never on the host.
        Get-Content "$Etc/localtime" | Should -Be 'UTC0'
    }

    It 'refuses Get-Content on a folder, naming it' {
        $e = Get-Errors { Get-Content $Etc }
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -BeLike 'NotAFile*'
    }

    It 'answers Test-Path, with -PathType' {
        Test-Path "$Etc/hostname" | Should -BeTrue
        Test-Path "$Etc/nope" | Should -BeFalse
        Test-Path "Restore:/no-disk-$PID" | Should -BeFalse
        Test-Path "Restore:/$D/part/9" | Should -BeFalse
        Test-Path $Etc -PathType Container | Should -BeTrue
        Test-Path "$Etc/hostname" -PathType Leaf | Should -BeTrue
        Test-Path "Restore:/$D/part" -PathType Container | Should -BeTrue
    }

    It 'expands wildcards with Resolve-Path, across buckets and folders' {
        (Resolve-Path "$Etc/pass*").Path | Should -Be "$Etc/passwd"
        (Resolve-Path "Restore:/$D/part/[12]/*" | ForEach-Object Path | Sort-Object) |
            Should -Contain "Restore:/$D/part/2/reports"
        (Resolve-Path "Restore:/$D/part/*/home/*/notes.txt" -ErrorAction SilentlyContinue).Path |
            Should -Be "Restore:/$D/part/1/home/alice/notes.txt"
        (Resolve-Path "Restore:/drv$PID*").Path | Should -Be "Restore:/$D"
    }

    It 'takes provider-qualified paths' {
        (Get-ChildItem "RestoreTools::/$D/part/1/etc").Name | Should -Contain 'passwd'
        Get-Content "RestoreTools\RestoreTools::/$D/part/1/etc/hostname" | Should -Be 'restore-demo'
    }

    It 'completes paths with Tab, level by level and inside folders' {
        Get-Completion "Get-ChildItem Restore:/drv$PID" | Should -Contain "Restore:/$D"
        Get-Completion "Get-ChildItem Restore:/$D/p" | Should -Contain "Restore:/$D/part"
        Get-Completion "Get-ChildItem Restore:/$D/part/1/et" | Should -Contain "Restore:/$D/part/1/etc"
        Get-Completion "Get-Content $Etc/host" | Should -Contain "$Etc/hostname"
        Push-Location $Etc
        try { Get-Completion 'Get-Content ./pa' | Should -Contain './passwd' }
        finally { Pop-Location }
    }
}

Describe 'The drive is read-only' {
    It '<Command> fails with a read-only error and changes nothing' -ForEach @(
        @{ Command = 'New-Item'; Script = { New-Item -Path "$Etc/new.txt" -ItemType File -Value x } }
        @{ Command = 'New-Item -Directory'; Script = { New-Item -Path "$Etc/newdir" -ItemType Directory } }
        @{ Command = 'Remove-Item'; Script = { Remove-Item -Path "$Etc/hostname" } }
        @{ Command = 'Remove-Item -Recurse'; Script = { Remove-Item -Path $Etc -Recurse } }
        @{ Command = 'Set-Content'; Script = { Set-Content -Path "$Etc/hostname" -Value x } }
        @{ Command = 'Add-Content'; Script = { Add-Content -Path "$Etc/hostname" -Value x } }
        @{ Command = 'Clear-Content'; Script = { Clear-Content -Path "$Etc/hostname" } }
        @{ Command = 'Rename-Item'; Script = { Rename-Item -Path "$Etc/hostname" -NewName h2 } }
        @{ Command = 'Move-Item'; Script = { Move-Item -Path "$Etc/hostname" -Destination "$Etc/../h2" } }
        @{ Command = 'Copy-Item'; Script = { Copy-Item -Path "$Etc/hostname" -Destination "$Etc/h2" } }
        @{ Command = 'Set-Item'; Script = { Set-Item -Path "$Etc/hostname" -Value x } }
        @{ Command = 'Clear-Item'; Script = { Clear-Item -Path "$Etc/hostname" } }
    ) {
        # Some commands end at the refusal (Set-Content rethrows it), others go on: both count.
        $e = try { Get-Errors $Script } catch { , @($_) }
        $e.Count | Should -BeGreaterThan 0
        $e[0].Exception.Message | Should -Match 'read-only'
        # Set-Content rewraps the refusal under its own NotSupported id, with the drive's message.
        $e[0].FullyQualifiedErrorId | Should -Match '^(ReadOnly|NotSupported),'
        (Get-ChildItem $Etc -Name | Sort-Object) | Should -Be @('hostname', 'localtime', 'passwd')
        Get-Content "$Etc/hostname" | Should -Be 'restore-demo'
    }

    It 'cannot be a Copy-Item destination from the file system either' {
        $f = Join-Path $Work 'in.txt'
        Set-Content -LiteralPath $f -Value x
        { Copy-Item -LiteralPath $f -Destination "$Etc/in.txt" -ErrorAction Stop } | Should -Throw
        Test-Path "$Etc/in.txt" | Should -BeFalse
    }

    It 'leaves the image file unchanged' {
        (Get-FileHash -LiteralPath $Sample -Algorithm SHA256).Hash | Should -Be $SampleHash
    }
}

Describe 'Copy-RestoreItem with drive paths' {
    BeforeEach {
        $script:Out = Join-Path $Work "out-$([guid]::NewGuid().ToString('n').Substring(0, 8))"
        $null = New-Item -ItemType Directory -Path $Out
    }

    It 'copies Restore:\disk\part\1\etc\hostname' {
        Copy-RestoreItem -Path "Restore:\$D\part\1\etc\hostname" -Destination $Out
        Get-Content -LiteralPath (Join-Path $Out 'hostname') | Should -Be 'restore-demo'
    }

    It 'copies a path relative to a location on the drive, and a wildcard' {
        Push-Location $Etc
        try { Copy-RestoreItem -Path passwd -Destination $Out }
        finally { Pop-Location }
        Copy-RestoreItem -Path "Restore:/$D/part/1/home/*/notes.*" -Destination $Out
        (Get-ChildItem -LiteralPath $Out -Name | Sort-Object) | Should -Be @('notes.txt', 'passwd')
    }

    It 'copies items piped from Get-ChildItem on the drive' {
        Get-ChildItem $Etc -Exclude localtime | Copy-RestoreItem -Destination $Out
        (Get-ChildItem -LiteralPath $Out -Name | Sort-Object) | Should -Be @('hostname', 'passwd')
        Get-Item "Restore:/$D/part/1/home" | Copy-RestoreItem -Destination $Out -Recurse
        Get-Content -LiteralPath (Join-Path $Out 'home/alice/notes.txt') | Should -BeLike 'Alice notes:*'
    }

    It 'still takes restore paths as before' {
        Copy-RestoreItem -Path "/$D/part/1/etc/hostname" -Destination $Out
        Test-Path -LiteralPath (Join-Path $Out 'hostname') | Should -BeTrue
    }
}

Describe 'Names that PowerShell paths trip on' {
    BeforeAll { $script:Raw = "Restore:/$H/raw" }

    It 'spells every name so that it reads back exactly (DriveNames)' {
        foreach ($name in 'plain', 'a\b', '\\', '%', '%%', '%5C', '%5c', '%25', '%255C', '%\', '%5\', '%2%5C', 'x%5', 'tail%', '100%\x2d', 'caf\xE9') {
            $enc = [RestoreTools.Module.Provider.DriveNames]::Encode($name)
            $enc | Should -Not -Match '[\\/]'
            [RestoreTools.Module.Provider.DriveNames]::Decode($enc) | Should -BeExactly $name
        }
        [RestoreTools.Module.Provider.DriveNames]::Encode('100%') | Should -BeExactly '100%'
        [RestoreTools.Module.Provider.DriveNames]::ToRestorePath('\d\part/1\a%5Cb') | Should -BeExactly '/d/part/1/a\b'
    }

    It 'shows each ''\'' as %5C on the drive, and a written-out %5C as %255C' {
        $items = Get-ChildItem $Raw
        $byName = @{}
        foreach ($i in $items) { $byName[$i.Name] = $i.PSChildName }
        $byName['back\slash.txt'] | Should -Be 'back%5Cslash.txt'
        $byName['dev-disk-by\x2duuid.swap'] | Should -Be 'dev-disk-by%5Cx2duuid.swap'
        $byName['dir\with\back'] | Should -Be 'dir%5Cwith%5Cback'
        $byName['pct%5Cname.txt'] | Should -Be 'pct%255Cname.txt'
        $byName['star*name.txt'] | Should -Be 'star*name.txt'
        $byName['[br]acket.txt'] | Should -Be '[br]acket.txt'
        $byName['caf\xE9.txt'] | Should -Be 'caf%5CxE9.txt'
        ($items | Where-Object Name -eq 'caf\xE9.txt').RawName | Should -Be @(0x63, 0x61, 0x66, 0xE9, 0x2E, 0x74, 0x78, 0x74)
    }

    It 'reads every file piped from Get-ChildItem (Path binds, wildcards escaped)' {
        $text = Get-ChildItem $Raw | Where-Object { -not $_.PSIsContainer } | Get-Content
        ($text | Sort-Object) | Should -Be @('backslash', 'bracket', 'latin1', 'pct', 'star', 'unit')
        (Get-ChildItem $Raw -Filter *.txt | Get-Content | Select-String -Pattern 'sta').Line | Should -Be 'star'
    }

    It 'takes such names with -LiteralPath, and by their drive spelling' {
        Get-Content -LiteralPath "$Raw/star*name.txt" | Should -Be 'star'
        Get-Content -LiteralPath "$Raw/[br]acket.txt" | Should -Be 'bracket'
        Get-Content -LiteralPath "$Raw/back%5Cslash.txt" | Should -Be 'backslash'
        Get-Content -LiteralPath "$Raw/pct%255Cname.txt" | Should -Be 'pct'
        Get-Content -LiteralPath "$Raw/caf%5CxE9.txt" | Should -Be 'latin1'
        Test-Path -LiteralPath "$Raw/back\slash.txt" | Should -BeFalse   # '\' is a separator to PowerShell
    }

    It 'walks into a folder whose name holds backslashes' {
        Push-Location
        try {
            Set-Location -LiteralPath "$Raw/dir%5Cwith%5Cback"
            (Get-ChildItem).Name | Should -Be 'inner.conf'
            Get-Content inner.conf | Should -Be 'inner'
        }
        finally { Pop-Location }
        (Get-ChildItem $Raw -Recurse -Filter *.conf).RestorePath | Sort-Object |
            Should -Be @("/$H/raw/dir\with\back/inner.conf", "/$H/raw/etc/app.conf")
    }

    It 'completes such names in their drive spelling' {
        Get-Completion "Get-Content $Raw/back" | Should -Contain "$Raw/back%5Cslash.txt"
    }

    It 'copies them out with Copy-RestoreItem from drive paths' {
        $out = Join-Path $Work 'hostile-out'
        $null = New-Item -ItemType Directory -Path $out
        Copy-RestoreItem -Path "Restore:\$H\raw\back%5Cslash.txt" -Destination $out
        Get-ChildItem $Raw | Where-Object Name -in 'star*name.txt', '[br]acket.txt', 'dir\with\back' | Copy-RestoreItem -Destination $out -Recurse
        # .NET reads the copies: to pwsh's FileSystem provider a '\' in a name is a separator.
        [IO.File]::ReadAllText("$out/back\slash.txt") | Should -Be "backslash`n"
        [IO.File]::ReadAllText("$out/star*name.txt") | Should -Be "star`n"
        [IO.File]::ReadAllText("$out/[br]acket.txt") | Should -Be "bracket`n"
        [IO.File]::ReadAllText("$out/dir\with\back/inner.conf") | Should -Be "inner`n"
    }
}

Describe 'A drive through a restore agent''s session' -Skip:(-not $HasAgent) {
    BeforeAll {
        # The agent on this host over a Unix socket, with the sample image under another name.
        $script:Socket = Join-Path $Work 'agent.sock'
        $script:TokenFile = Join-Path $Work 'token'
        $script:AgentProcess = Start-Process -FilePath $Agent -PassThru -RedirectStandardError (Join-Path $Work 'agent.log') -ArgumentList @(
            '--host', '--listen', "unix:$Socket", '--token-file', $TokenFile, '--image', "remote$PID.img=$Sample", '--state-dir', (Join-Path $Work 'state'))
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        while (-not (Test-Path $Socket) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        $script:S = Connect-RestoreAgent -Socket $Socket -TokenFile $TokenFile
        $script:Vm = New-PSDrive -Name "VM$PID" -PSProvider RestoreTools -Root / -Session $S
    }

    It 'keeps the session in the drive' {
        $Vm.Session.Id | Should -Be $S.Id
        (Get-PSDrive -Name "VM$PID").Session.Endpoint | Should -Be $S.Endpoint
    }

    It 'lists the agent''s disks, not this host''s' {
        $names = (Get-ChildItem "VM$($PID):/").Name
        $names | Should -Contain "remote$PID.img"
        $names | Should -Not -Contain $D
        (Get-ChildItem 'Restore:/').Name | Should -Not -Contain "remote$PID.img"
    }

    It 'navigates, reads and completes through the agent' {
        Push-Location "VM$($PID):\remote$PID.img\part\1\etc"
        try {
            (Get-ChildItem -Name | Sort-Object) | Should -Be @('hostname', 'localtime', 'passwd')
            Get-Content hostname | Should -Be 'restore-demo'
            Get-Completion 'Get-Content ./pas' | Should -Contain './passwd'
        }
        finally { Pop-Location }
        (Get-ChildItem "VM$($PID):/remote$PID.img/part/1" -Recurse -Filter *.txt).RestorePath | Should -Be "/remote$PID.img/part/1/home/alice/notes.txt"
    }

    It 'copies out through the drive''s session: by path and from the pipeline' {
        $out = Join-Path $Work 'vm-out'
        $null = New-Item -ItemType Directory -Path $out
        Copy-RestoreItem -Path "VM$($PID):/remote$PID.img/part/1/etc/hostname" -Destination $out
        Get-ChildItem "VM$($PID):/remote$PID.img/part/1/etc" -Filter passwd | Copy-RestoreItem -Destination $out
        (Get-ChildItem -LiteralPath $out -Name | Sort-Object) | Should -Be @('hostname', 'passwd')
    }

    It 'is read-only there too' {
        $e = Get-Errors { Remove-Item "VM$($PID):/remote$PID.img/part/1/etc/hostname" }
        $e[0].Exception.Message | Should -Match 'read-only'
    }

    It 'says the session is closed once it is' {
        Disconnect-RestoreAgent -Session $S
        $e = Get-Errors { Get-ChildItem "VM$($PID):/remote$PID.img" }
        $e.Count | Should -BeGreaterThan 0
        $e[0].Exception.Message | Should -Match 'closed'
    }
}

Describe 'A drive per restore VM' -Skip:(-not $HasVm) {
    BeforeAll {
        $env:RESTORETOOLS_VM_STATE = Join-Path $Work 'vms'
        $env:RESTORETOOLS_VM_SNAPSHOTS = Join-Path $Work 'snapshots'
        $script:VmSession = Start-RestoreVM -Image @{ 'gpt-disk' = $Sample } -NoSnapshot -TimeoutSeconds 120 -IdleTimeoutSeconds 300
        $script:V = "VmDrive$PID"
        $null = New-PSDrive -Name $V -PSProvider RestoreTools -Root / -Session $VmSession
    }
    AfterAll {
        Remove-PSDrive -Name $V -ErrorAction SilentlyContinue
        if ($VmSession) { Stop-RestoreVM -Id $VmSession.VmId -ErrorAction SilentlyContinue }
    }

    It 'lists the VM''s virtio disks and buckets' {
        (Get-ChildItem "$($V):/").Name | Should -Be @('gpt-disk')
        (Get-ChildItem "$($V):\gpt-disk\part").FileSystem | Should -Be @('ext4', 'xfs', 'vfat')
    }

    It 'reads inside the VM, vfat included (the agent''s FAT reader there)' {
        Get-Content "$($V):/gpt-disk/part/3/EFI/BOOT/readme.txt" | Should -Not -BeNullOrEmpty
        (Get-ChildItem "$($V):/gpt-disk/part" -Recurse -Filter *.txt).RestorePath | Sort-Object | Should -Be @(
            '/gpt-disk/part/1/home/alice/notes.txt', '/gpt-disk/part/2/reports/2026/summary.txt', '/gpt-disk/part/3/EFI/BOOT/readme.txt')
    }

    It 'navigates and completes in the VM' {
        Push-Location "$($V):\gpt-disk\part\1\etc"
        try {
            Get-Content hostname | Should -Be 'restore-demo'
            Get-Completion 'Get-Content ./host' | Should -Contain './hostname'
        }
        finally { Pop-Location }
    }

    It 'copies out of the VM from a drive path' {
        $out = Join-Path $Work 'vm-drive-out'
        $null = New-Item -ItemType Directory -Path $out
        Copy-RestoreItem -Path "$($V):\gpt-disk\part\2\reports" -Destination $out -Recurse
        Get-Content -LiteralPath (Join-Path $out 'reports/2026/summary.txt') | Should -Not -BeNullOrEmpty
    }
}
