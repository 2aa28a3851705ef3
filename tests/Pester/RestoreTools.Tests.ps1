#Requires -Version 7.4
# Pester 6 tests of the RestoreTools module against real images (needs root: loop devices, mount).
# Run in a fresh pwsh (a loaded module dll cannot be reloaded):
#   dotnet pwsh -NoProfile -c 'Import-Module <Pester.psd1>; $env:RESTORETOOLS_MODULE="<abs psd1>"; Invoke-Pester tests/Pester -Output Detailed'

BeforeDiscovery {
    $script:ModulePath = if ($env:RESTORETOOLS_MODULE) { $env:RESTORETOOLS_MODULE }
    else { Join-Path $PSScriptRoot '../../out/RestoreTools/RestoreTools.psd1' }
    $script:ExportedCmdlets = @((Import-PowerShellDataFile -LiteralPath $ModulePath).CmdletsToExport |
            ForEach-Object { @{ Name = $_ } })
    $script:HasSample = [bool]$env:RESTORETOOLS_SAMPLE -and (Test-Path -LiteralPath "$env:RESTORETOOLS_SAMPLE")
}

BeforeAll {
    $ModulePath = if ($env:RESTORETOOLS_MODULE) { $env:RESTORETOOLS_MODULE }
    else { Join-Path $PSScriptRoot '../../out/RestoreTools/RestoreTools.psd1' }
    $ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
    Import-Module $ModulePath -Force -ErrorAction Stop

    function Invoke-Tool {
        param([string] $File, [string[]] $ArgumentList, [string] $InputText)
        $out = if ($InputText) { $InputText | & $File @ArgumentList 2>&1 } else { & $File @ArgumentList 2>&1 }
        if ($LASTEXITCODE -ne 0) { throw "$File $($ArgumentList -join ' ') failed ($LASTEXITCODE): $out" }
    }

    # Errors written by one command, as a list.
    function Get-Errors {
        param([scriptblock] $Script)
        $ErrorActionPreference = 'Continue'
        $all = & $Script 2>&1
        , @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
    }

    $Suffix = "$PID"
    $script:GptName = "pgpt$Suffix"
    $script:RawName = "praw$Suffix"
    $script:Work = Join-Path ([IO.Path]::GetTempPath()) "restoretools-pester-$Suffix"
    $null = New-Item -ItemType Directory -Path $Work -Force

    # --- ext4 tree: the sample layout, plus a fake zoneinfo file that the absolute symlink
    #     /etc/localtime must resolve to inside the image (never onto the host's /usr/share).
    $root = Join-Path $Work 'rootfs'
    foreach ($d in 'etc', 'home/alice', 'usr/share/zoneinfo') { $null = New-Item -ItemType Directory -Path (Join-Path $root $d) -Force }
    Set-Content -LiteralPath "$root/etc/hostname" -Value 'restore-demo'
    Set-Content -LiteralPath "$root/etc/passwd" -Value 'root:x:0:0:root:/root:/bin/bash', 'alice:x:1000:1000::/home/alice:/bin/bash'
    Set-Content -LiteralPath "$root/home/alice/notes.txt" -Value 'buy milk'
    Set-Content -LiteralPath "$root/usr/share/zoneinfo/UTC" -Value 'TZif-fake-from-image'
    Invoke-Tool ln '-s', '/usr/share/zoneinfo/UTC', "$root/etc/localtime"
    # A log of 20,000 numbered lines (about 300 KB, several 64 KiB blocks) for Get-RestoreContent -Tail.
    [IO.File]::WriteAllText("$root/usr/share/big.log", ((1..20000 | ForEach-Object { "line $_ of the log" }) -join "`n") + "`n")

    # --- xfs tree via a protofile
    $data = Join-Path $Work 'data'
    $null = New-Item -ItemType Directory -Path "$data/reports/2026" -Force
    Set-Content -LiteralPath "$data/reports/2026/summary.txt" -Value 'quarterly summary'
    $proto = @(
        '/dev/null', '0 0', 'd--755 0 0',
        'reports d--755 0 0', '2026 d--755 0 0', "summary.txt ---644 0 0 $data/reports/2026/summary.txt", '$', '$', '$'
    )
    Set-Content -LiteralPath "$Work/xfs.proto" -Value $proto

    # --- GPT image: part 1 ext4 (64 MiB, label rootfs), part 2 xfs (300 MiB, label data)
    $script:GptImage = Join-Path $Work 'gpt.img'
    Invoke-Tool truncate '-s', '400M', $GptImage
    Invoke-Tool sfdisk '-q', $GptImage -InputText @"
label: gpt
start=2048, size=131072, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=root
start=133120, size=614400, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=data
"@
    Invoke-Tool truncate '-s', '64M', "$Work/p1.img"
    Invoke-Tool mkfs.ext4 '-q', '-F', '-L', 'rootfs', '-d', $root, "$Work/p1.img"
    Invoke-Tool truncate '-s', '300M', "$Work/p2.img"
    Invoke-Tool mkfs.xfs '-q', '-f', '-L', 'data', '-p', "$Work/xfs.proto", "$Work/p2.img"
    Invoke-Tool dd "if=$Work/p1.img", "of=$GptImage", 'bs=1M', 'seek=1', 'conv=notrunc,sparse', 'status=none'
    Invoke-Tool dd "if=$Work/p2.img", "of=$GptImage", 'bs=1M', 'seek=65', 'conv=notrunc,sparse', 'status=none'
    Remove-Item "$Work/p1.img", "$Work/p2.img"

    # --- raw ext4 disk, no partition table
    $rawTree = Join-Path $Work 'rawtree'
    $null = New-Item -ItemType Directory -Path $rawTree -Force
    Set-Content -LiteralPath "$rawTree/hello.txt" -Value 'hello from raw'
    $script:RawImage = Join-Path $Work 'raw-disk.img'
    Invoke-Tool truncate '-s', '32M', $RawImage
    Invoke-Tool mkfs.ext4 '-q', '-F', '-L', 'rawfs', '-d', $rawTree, $RawImage

    $script:GptHash = (Get-FileHash -LiteralPath $GptImage -Algorithm SHA256).Hash
    $script:RawHash = (Get-FileHash -LiteralPath $RawImage -Algorithm SHA256).Hash

    $script:GptDisk = Mount-RestoreImage -Path $GptImage -Name $GptName -PassThru -ErrorAction Stop
    # A relative wildcard path, resolved against the PowerShell location.
    Push-Location $Work
    try { $script:RawDisk = Mount-RestoreImage -Path 'raw-*.img' -Name $RawName -PassThru -ErrorAction Stop }
    finally { Pop-Location }
    $script:Mine = "p*$Suffix"
}

AfterAll {
    if (Get-Module RestoreTools) {
        foreach ($n in $GptName, $RawName) {
            if ($n) { Dismount-RestoreImage -Name $n -Confirm:$false -ErrorAction SilentlyContinue }
        }
        Remove-Module RestoreTools -Force   # IModuleAssemblyCleanup disposes the engine
    }
    if ($Work -and (Test-Path -LiteralPath $Work)) { Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'Mount-RestoreImage' {
    It 'returns the attached GPT disk with -PassThru' {
        $GptDisk | Should -Not -BeNullOrEmpty
        $GptDisk.GetType().FullName | Should -Be 'RestoreTools.Engine.RestoreDisk'
        $GptDisk.Name | Should -Be $GptName
        $GptDisk.Source | Should -Be 'image'
        $GptDisk.ImagePath | Should -Be $GptImage
        $GptDisk.Size | Should -Be (400MB)
        $GptDisk.PartitionTable | Should -Be 'gpt'
        $GptDisk.BucketTypes | Should -Contain 'part'
        $GptDisk.Device | Should -Exist
    }

    It 'resolves a relative wildcard path against the current location (raw disk)' {
        $RawDisk.Name | Should -Be $RawName
        $RawDisk.ImagePath | Should -Be $RawImage
        $RawDisk.Size | Should -Be (32MB)
        $RawDisk.PartitionTable | Should -BeNullOrEmpty
        $RawDisk.BucketTypes | Should -Contain 'raw'
    }

    It 'returns nothing without -PassThru and changes nothing with -WhatIf' {
        $before = @(Get-RestoreDisk).Count
        $out = Mount-RestoreImage -Path $GptImage -Name "whatif$PID" -WhatIf
        $out | Should -BeNullOrEmpty
        @(Get-RestoreDisk).Count | Should -Be $before
        Get-RestoreDisk -Name "whatif$PID" -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It 'writes ImageNotFound for a missing file' {
        $errs = Get-Errors { Mount-RestoreImage -Path (Join-Path $Work 'missing.img') }
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'ImageNotFound,*'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'writes NameInUse for a name already attached' {
        $errs = Get-Errors { Mount-RestoreImage -LiteralPath $RawImage -Name $GptName }
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'NameInUse,*'
    }
}

Describe 'Get-RestoreDisk' {
    It 'shows every column of the disk table in 80 columns' {
        $table = Get-RestoreDisk -Name $GptName | Format-Table | Out-String -Width 80
        $header = ($table -split "`n" | Where-Object { $_ -match '\bName\b' } | Select-Object -First 1)
        $header | Should -Match 'Device\s*$'
        ($table -split "`n" | Where-Object { $_ -match [regex]::Escape($GptName) }) | Should -Match '/dev/loop\d+'
    }

    It 'gets one disk by exact name' {
        $d = @(Get-RestoreDisk -Name $GptName)
        $d.Count | Should -Be 1
        $d[0].Name | Should -Be $GptName
        $d[0].PartitionTable | Should -Be 'gpt'
    }

    It 'gets disks by wildcard' {
        $names = @(Get-RestoreDisk -Name $Mine).Name
        $names | Should -Contain $GptName
        $names | Should -Contain $RawName
        @(Get-RestoreDisk).Name | Should -Contain $GptName
    }

    It 'writes DiskNotFound (ObjectNotFound) for an unknown name and goes on' {
        $errs = $null
        $out = @(Get-RestoreDisk -Name "nosuch$PID", $GptName -ErrorAction SilentlyContinue -ErrorVariable errs)
        $out.Name | Should -Be $GptName
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'DiskNotFound,*'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errs[0].TargetObject | Should -Be "nosuch$PID"
    }

    It 'writes no error for a wildcard that matches nothing' {
        $errs = Get-Errors { Get-RestoreDisk -Name "nosuch$PID*" }
        $errs.Count | Should -Be 0
    }

    It 'formats a table with a human-readable size' {
        $text = Get-RestoreDisk -Name $GptName | Out-String -Width 200
        foreach ($h in 'Name', 'Size', 'PartitionTable', 'BucketTypes', 'Device') { $text | Should -Match "\b$h\b" }
        $text | Should -Match '400 MiB'
    }
}

Describe 'Get-RestoreBucket' {
    BeforeAll {
        $script:Buckets = @(Get-RestoreBucket -Disk $GptName)
        $script:P1 = $Buckets | Where-Object Path -eq "/$GptName/part/1"
        $script:P2 = $Buckets | Where-Object Path -eq "/$GptName/part/2"
    }

    It 'lists the two partitions with file system, label, size and path' {
        $Buckets.Count | Should -Be 2
        $P1.GetType().FullName | Should -Be 'RestoreTools.Engine.RestoreBucket'
        $P1.Disk | Should -Be $GptName
        $P1.Type | Should -Be 'part'
        $P1.Component | Should -Be '1'
        $P1.FileSystem | Should -Be 'ext4'
        $P1.Label | Should -Be 'rootfs'
        $P1.Size | Should -Be (64MB)
        $P1.Error | Should -BeNullOrEmpty
        $P2.FileSystem | Should -Be 'xfs'
        $P2.Label | Should -Be 'data'
        $P2.Size | Should -Be (300MB)
    }

    It 'gives a raw disk one raw bucket' {
        $raw = @(Get-RestoreBucket -Disk $RawName)
        $raw.Count | Should -Be 1
        $raw[0].Type | Should -Be 'raw'
        $raw[0].FileSystem | Should -Be 'ext4'
        $raw[0].Label | Should -Be 'rawfs'
        $raw[0].Path | Should -Be "/$RawName/raw"   # a raw bucket has no component
    }

    It 'filters by -Type part' {
        $parts = @(Get-RestoreBucket -Disk $Mine -Type part)
        $parts.Count | Should -Be 2
        $parts.Type | Sort-Object -Unique | Should -Be 'part'
        $parts.Disk | Should -Not -Contain $RawName
    }

    It 'binds -Disk from piped RestoreDisk objects' {
        $viaPipe = @(Get-RestoreDisk -Name $GptName, $RawName | Get-RestoreBucket)
        $viaPipe.Count | Should -Be 3
        ($viaPipe.Path | Sort-Object) | Should -Be (@($Buckets.Path) + @(Get-RestoreBucket -Disk $RawName).Path | Sort-Object)
    }

    It 'works with Where-Object FileSystem -eq ext4' {
        $ext4 = @(Get-RestoreBucket -Type part | Where-Object FileSystem -eq ext4 | Where-Object Disk -like $Mine)
        $ext4.Count | Should -Be 1
        $ext4[0].Path | Should -Be "/$GptName/part/1"
    }

    It 'writes DiskNotFound for an unknown disk' {
        $errs = Get-Errors { Get-RestoreBucket -Disk "nosuch$PID" }
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'DiskNotFound,*'
    }

    It 'formats a table with the column headers' {
        $text = Get-RestoreBucket -Disk $GptName | Out-String -Width 200
        foreach ($h in 'Path', 'FileSystem', 'Label', 'Size', 'Mounted', 'MountPoint') { $text | Should -Match "\b$h\b" }
        $text | Should -Match '64 MiB'
        $text | Should -Match '300 MiB'
    }
}

Describe 'Mount-RestoreBucket and Dismount-RestoreBucket' {
    It 'changes nothing with -WhatIf' {
        $path = "/$GptName/part/1"
        Dismount-RestoreBucket -Path $path
        (Get-RestoreBucket -Disk $GptName | Where-Object Path -eq $path).IsMounted | Should -BeFalse
        Mount-RestoreBucket -Path $path -WhatIf | Should -BeNullOrEmpty
        (Get-RestoreBucket -Disk $GptName | Where-Object Path -eq $path).IsMounted | Should -BeFalse
    }

    It 'mounts through the pipeline Get-RestoreDisk | Get-RestoreBucket | Mount-RestoreBucket -PassThru' {
        $mounted = @(Get-RestoreDisk -Name $Mine | Get-RestoreBucket | Mount-RestoreBucket -PassThru)
        $mounted.Count | Should -Be 3
        foreach ($b in $mounted) {
            $b.GetType().FullName | Should -Be 'RestoreTools.Engine.RestoreBucket'
            $b.IsMounted | Should -BeTrue
            $b.MountPoint | Should -Not -BeNullOrEmpty
            Test-Path -LiteralPath $b.MountPoint -PathType Container | Should -BeTrue
        }
        $p1 = $mounted | Where-Object Path -eq "/$GptName/part/1"
        Get-Content -LiteralPath (Join-Path $p1.MountPoint 'etc/hostname') | Should -Be 'restore-demo'
        (Get-RestoreBucket -Disk $Mine).IsMounted | Should -Not -Contain $false
    }

    It 'mounts read-only' {
        $p1 = Get-RestoreBucket -Disk $GptName | Where-Object Path -eq "/$GptName/part/1"
        { Set-Content -LiteralPath (Join-Path $p1.MountPoint 'etc/hostname') -Value 'tampered' -ErrorAction Stop } | Should -Throw
        { New-Item -ItemType File -Path (Join-Path $p1.MountPoint 'new.txt') -ErrorAction Stop } | Should -Throw
    }

    It 'mounting again is harmless' {
        $again = Mount-RestoreBucket -Path "/$GptName/part/1" -PassThru
        $again.IsMounted | Should -BeTrue
    }

    It 'unmounts with -PassThru' {
        $b = Dismount-RestoreBucket -Path "/$GptName/part/2" -PassThru
        $b.IsMounted | Should -BeFalse
        $b.MountPoint | Should -BeNullOrEmpty
        (Get-RestoreBucket -Disk $GptName | Where-Object Path -eq "/$GptName/part/2").IsMounted | Should -BeFalse
    }

    It 'writes ComponentNotFound for an unknown partition and goes on with the next path' {
        $errs = $null
        $out = @(Mount-RestoreBucket -Path "/$GptName/part/9", "/$GptName/part/2" -PassThru -ErrorAction SilentlyContinue -ErrorVariable errs)
        $out.Count | Should -Be 1
        $out[0].IsMounted | Should -BeTrue
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'ComponentNotFound,*'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errs[0].TargetObject | Should -Be "/$GptName/part/9"
    }
}

Describe 'Get-RestoreChildItem' {
    It 'lists a folder sorted by name, as ls does' {
        $names = @(Get-RestoreChildItem -Path "/$GptName/part/1").Name
        $names.Count | Should -BeGreaterThan 2
        $ordinal = [string[]]$names.Clone(); [Array]::Sort($ordinal, [StringComparer]::Ordinal)
        ($names -join '|') | Should -BeExactly ($ordinal -join '|')
    }

    It 'takes -Include, -Exclude, -File, -Directory and -Name as Get-ChildItem does' {
        $p = "/$GptName/part/1"
        @(Get-RestoreChildItem -Path "$p/etc" -Include 'host*', 'pass*').Name | Should -Be @('hostname', 'passwd')
        @(Get-RestoreChildItem -Path "$p/etc" -Exclude 'host*').Name | Should -Be @('localtime', 'passwd')
        @(Get-RestoreChildItem -Path $p -Directory).Name | Should -Be @('etc', 'home', 'lost+found', 'usr')
        @(Get-RestoreChildItem -Path "$p/etc" -File).Name | Should -Be @('hostname', 'localtime', 'passwd')
        # -Name: strings, and with -Recurse the paths below the listed folder.
        $names = @(Get-RestoreChildItem -Path "$p/home" -Recurse -File -Name)
        $names | Should -Be @('alice/notes.txt')
        $names[0] | Should -BeOfType [string]
    }

    It 'reads the last lines with -Tail, from the end of the file' {
        $log = "/$GptName/part/1/usr/share/big.log"
        @(Get-RestoreContent -Path $log -Tail 3) | Should -Be @('line 19998 of the log', 'line 19999 of the log', 'line 20000 of the log')
        @(Get-RestoreContent -Path $log -Last 1) | Should -Be @('line 20000 of the log')
        @(Get-RestoreContent -Path $log -Tail 0).Count | Should -Be 0
        $all = @(Get-RestoreContent -Path $log -Tail 30000)
        $all.Count | Should -Be 20000
        $all[0] | Should -Be 'line 1 of the log'
        @(Get-RestoreContent -Path "/$GptName/part/1/etc/passwd" -Tail 1) | Should -Be @('alice:x:1000:1000::/home/alice:/bin/bash')
        { Get-RestoreContent -Path $log -Tail 2 -TotalCount 2 -ErrorAction Stop } | Should -Throw -ErrorId 'NotSupported*'
    }

    It 'gives Length, UnixMode and Mounted as the tables show them' {
        $items = Get-RestoreChildItem -Path "/$GptName/part/1"
        @($items | Where-Object Length -gt 0).Count | Should -BeGreaterThan 0
        ($items | Select-Object -First 1).UnixMode | Should -Match '^[-dlcbps][-rwxsStT]{9}$'
        (Get-RestoreBucket -Disk $GptName | Select-Object -First 1).Mounted | Should -BeOfType [bool]
    }
}

Describe 'Resolve-RestorePath' {
    It 'resolves a full path on ext4 to a LocalPath that Get-Content reads' {
        $r = Resolve-RestorePath -Path "/$GptName/part/1/etc/hostname"
        $r.GetType().FullName | Should -Be 'RestoreTools.Engine.ResolvedPath'
        $r.Kind | Should -Be 'Item'
        $r.Disk | Should -Be $GptName
        $r.BucketType | Should -Be 'part'
        $r.Component | Should -Be '1'
        Get-Content -LiteralPath $r.LocalPath | Should -Be 'restore-demo'
    }

    It 'resolves a file on xfs (mounting on demand)' {
        Dismount-RestoreBucket -Path "/$GptName/part/2"
        $r = Resolve-RestorePath "/$GptName/part/2/reports/2026/summary.txt"
        Get-Content -LiteralPath $r.LocalPath | Should -Be 'quarterly summary'
    }

    It 'resolves a file on a raw disk' {
        $bucket = Get-RestoreBucket -Disk $RawName
        $r = Resolve-RestorePath "$($bucket.Path)/hello.txt"
        Get-Content -LiteralPath $r.LocalPath | Should -Be 'hello from raw'
    }

    It 'follows an absolute symlink inside the image, not on the host' {
        $r = Resolve-RestorePath "/$GptName/part/1/etc/localtime"
        Get-Content -LiteralPath $r.LocalPath | Should -Be 'TZif-fake-from-image'
    }

    It 'resolves a bucket path to its mount point' {
        $r = Resolve-RestorePath "/$GptName/part/1"
        $r.Kind | Should -Be 'Bucket'
        Test-Path -LiteralPath (Join-Path $r.LocalPath 'home/alice/notes.txt') | Should -BeTrue
    }

    It 'lists disks for /' {
        $entries = @(Resolve-RestorePath /)
        $mine = $entries | Where-Object Name -like $Mine
        @($mine).Count | Should -Be 2
        $mine[0].GetType().FullName | Should -Be 'RestoreTools.Engine.RestorePathEntry'
        ($mine.Kind | Sort-Object -Unique) | Should -Be 'Disk'
        ($entries | Where-Object Name -eq $GptName).Path | Should -Be "/$GptName"
    }

    It 'lists bucket types for /disk' {
        $entries = @(Resolve-RestorePath "/$GptName")
        $entries.Name | Should -Contain 'part'
        ($entries | Where-Object Name -eq 'part').Kind | Should -Be 'BucketType'
        ($entries | Where-Object Name -eq 'part').Path | Should -Be "/$GptName/part"
        @(Resolve-RestorePath "/$RawName").Name | Should -Contain 'raw'
    }

    It 'lists components for /disk/type' {
        $entries = @(Resolve-RestorePath "/$GptName/part")
        ($entries.Name | Sort-Object) | Should -Be @('1', '2')
        ($entries.Kind | Sort-Object -Unique) | Should -Be 'Bucket'
        ($entries | Where-Object Name -eq '1').Size | Should -Be (64MB)
        ($entries | Where-Object Name -eq '2').Path | Should -Be "/$GptName/part/2"
        (@($entries) | Out-String -Width 200) | Should -Match '\bKind\b'
    }

    It 'takes paths from the pipeline and goes on past a bad one' {
        $errs = $null
        $out = @("/$GptName/part/1/etc/passwd", "/$GptName/part/1/nope", "/$GptName/part/1/home/alice/notes.txt" |
                Resolve-RestorePath -ErrorAction SilentlyContinue -ErrorVariable errs)
        $out.Count | Should -Be 2
        Get-Content -LiteralPath $out[1].LocalPath | Should -Be 'buy milk'
        $errs.Count | Should -Be 1
    }

    It 'writes <Id> (<Category>) for <Path>' -ForEach @(
        @{ Path = 'relative/path'; Id = 'InvalidPath'; Category = 'InvalidArgument' }
        @{ Path = '/nosuchdisk-{0}'; Id = 'DiskNotFound'; Category = 'ObjectNotFound' }
        @{ Path = '/{1}/nosuchtype'; Id = 'BucketTypeNotFound'; Category = 'ObjectNotFound' }
        @{ Path = '/{1}/part/9'; Id = 'ComponentNotFound'; Category = 'ObjectNotFound' }
        @{ Path = '/{1}/part/1/etc/nope.txt'; Id = 'ItemNotFound'; Category = 'ObjectNotFound' }
    ) {
        $p = $Path -f $PID, $GptName
        $errs = Get-Errors { Resolve-RestorePath -Path $p }
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Be "$Id,RestoreTools.Module.Commands.ResolveRestorePathCommand"
        $errs[0].CategoryInfo.Category | Should -Be $Category
        $errs[0].TargetObject | Should -Be $p
    }
}

Describe 'Tab completion of restore paths' {
    It 'completes <Line>' -ForEach @(
        @{ Line = 'Resolve-RestorePath /pgpt{0}'; Expect = '/pgpt{0}/' }
        @{ Line = 'Resolve-RestorePath /pgpt{0}/p'; Expect = '/pgpt{0}/part/' }
        @{ Line = 'Resolve-RestorePath /pgpt{0}/part/'; Expect = '/pgpt{0}/part/2/' }
        @{ Line = 'Resolve-RestorePath /pgpt{0}/part/1/et'; Expect = '/pgpt{0}/part/1/etc/' }
        @{ Line = 'Resolve-RestorePath /pgpt{0}/part/1/etc/host'; Expect = '/pgpt{0}/part/1/etc/hostname' }
        @{ Line = 'Mount-RestoreBucket -Path /pgpt{0}/part/'; Expect = '/pgpt{0}/part/1' }
        @{ Line = 'Mount-RestoreBucket -Path /praw{0}'; Expect = '/praw{0}/raw' }
        @{ Line = 'Resolve-RestorePath /praw{0}/raw/hel'; Expect = '/praw{0}/raw/hello.txt' }
        @{ Line = 'Get-RestoreBucket -Disk pgpt{0}'; Expect = 'pgpt{0}' }
        @{ Line = 'Get-RestoreBucket -Type pa'; Expect = 'part' }
    ) {
        $l = $Line -f $PID
        $completions = (TabExpansion2 -inputScript $l -cursorColumn $l.Length).CompletionMatches.CompletionText
        $completions | Should -Contain ($Expect -f $PID)
    }
}

Describe 'Help' {
    It 'exports every cmdlet listed in the manifest' {
        $exported = @((Get-Module RestoreTools).ExportedCmdlets.Keys | Sort-Object)
        $exported.Count | Should -Be 17
        $exported | Should -Be @((Import-PowerShellDataFile -LiteralPath $ModulePath).CmdletsToExport | Sort-Object)
    }

    It '<Name> has a synopsis, a description, described parameters and >= 2 examples' -ForEach $ExportedCmdlets {
        $help = Get-Help $Name -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -BeLike "$Name *"   # not the auto-generated syntax line
        ($help.Description.Text -join ' ') | Should -Not -BeNullOrEmpty
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        foreach ($p in (Get-Command $Name).Parameters.Keys | Where-Object { $_ -notin $common }) {
            $ph = $help.Parameters.Parameter | Where-Object Name -eq $p
            $ph | Should -Not -BeNullOrEmpty -Because "parameter -$p of $Name needs help"
            ($ph.Description.Text -join ' ') | Should -Not -BeNullOrEmpty -Because "parameter -$p of $Name needs a description"
        }
    }
}

# The build's sample image (tools/New-SampleImage.sh), when build.ps1 passes it in.
Describe 'Sample image' -Skip:(-not $HasSample) {
    BeforeAll {
        $script:SampleName = "sample$PID.img"
        $script:SampleHash = (Get-FileHash -LiteralPath $env:RESTORETOOLS_SAMPLE -Algorithm SHA256).Hash
        $script:Sample = Mount-RestoreImage -LiteralPath $env:RESTORETOOLS_SAMPLE -Name $SampleName -PassThru -ErrorAction Stop
    }
    AfterAll {
        if ($SampleName) { Dismount-RestoreImage -Name $SampleName -ErrorAction SilentlyContinue }
    }

    It 'has three partitions: ext4 rootfs, xfs data, vfat EFI' {
        $Sample.PartitionTable | Should -Be 'gpt'
        $b = @(Get-RestoreBucket -Disk $SampleName -Type part | Sort-Object { [int]$_.Component })
        $b.Count | Should -Be 3
        $b.FileSystem | Should -Be @('ext4', 'xfs', 'vfat')
        $b.Label | Should -Be @('rootfs', 'data', 'EFI')
    }

    It 'reads a file from each partition' -ForEach @(
        @{ Rel = 'part/1/etc/hostname'; Text = 'restore-demo' }
        @{ Rel = 'part/1/home/alice/notes.txt'; Text = 'Alice notes: the quarterly backup lives on the data volume.' }
        @{ Rel = 'part/1/etc/localtime'; Text = 'UTC0' }
        @{ Rel = 'part/2/reports/2026/summary.txt'; Text = 'Summary 2026: 3 restores, 0 failures.' }
    ) {
        $r = Resolve-RestorePath "/$SampleName/$Rel"
        (Get-Content -LiteralPath $r.LocalPath -Raw).TrimEnd() | Should -Be $Text
    }

    It 'reads the vfat partition, whose FAT the engine reads itself (this host''s kernel has no vfat)' {
        $p = "/$SampleName/part/3/EFI/BOOT/readme.txt"
        (Get-Content -LiteralPath (Resolve-RestorePath $p).LocalPath -Raw).TrimEnd() |
            Should -Be 'RestoreTools sample EFI system partition.'
        (Get-RestoreBucket -Disk $SampleName | Where-Object Path -eq "/$SampleName/part/3").IsMounted | Should -BeTrue
    }

    It 'detaches and leaves the image unchanged' {
        Dismount-RestoreImage -Name $SampleName
        @(Get-RestoreDisk).Name | Should -Not -Contain $SampleName
        (Get-FileHash -LiteralPath $env:RESTORETOOLS_SAMPLE -Algorithm SHA256).Hash | Should -Be $SampleHash
    }
}

Describe 'Dismount-RestoreImage' {
    It 'changes nothing with -WhatIf' {
        Dismount-RestoreImage -Name $GptName -WhatIf
        @(Get-RestoreDisk -Name $GptName).Count | Should -Be 1
    }

    It 'detaches by name and from the pipeline' {
        $devices = @($GptDisk.Device, $RawDisk.Device)
        Dismount-RestoreImage -Name $GptName
        Get-RestoreDisk -Name $RawName | Dismount-RestoreImage
        @(Get-RestoreDisk).Name | Should -Not -Contain $GptName
        @(Get-RestoreDisk).Name | Should -Not -Contain $RawName
        $errs = Get-Errors { Get-RestoreDisk -Name $GptName }
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'DiskNotFound,*'
        # No loop device still backs either image.
        $backing = @(Get-ChildItem /sys/block/loop*/loop/backing_file -ErrorAction SilentlyContinue | Get-Content)
        $backing | Should -Not -Contain $GptImage
        $backing | Should -Not -Contain $RawImage
        # No mount left over.
        (Get-Content /proc/mounts) -join "`n" | Should -Not -Match ([regex]::Escape($GptName))
    }

    It 'writes DiskNotFound for an unknown name' {
        $errs = Get-Errors { Dismount-RestoreImage -Name "nosuch$PID" }
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'DiskNotFound,*'
    }

    It 'left both images byte-for-byte unchanged (SHA-256)' {
        (Get-FileHash -LiteralPath $GptImage -Algorithm SHA256).Hash | Should -Be $GptHash
        (Get-FileHash -LiteralPath $RawImage -Algorithm SHA256).Hash | Should -Be $RawHash
    }
}
