#Requires -Version 7.4
# LVM logical volumes of every common kind, on images that real lvm2 made and filled inside a maker
# VM (tests/Lvm/make-lvm-images.sh: this host has no device-mapper). In a restore VM the engine
# builds each LV's device-mapper tables from the metadata itself; on this host only a linear LV
# of one run is read, through a loop device at its offset. Every file is compared with the
# sha256 the maker VM took of it, and the images must be byte-identical afterwards.

BeforeAll {
    $ModulePath = if ($env:RESTORETOOLS_MODULE) { $env:RESTORETOOLS_MODULE } else { Join-Path $PSScriptRoot '../../out/RestoreTools/RestoreTools.psd1' }
    Import-Module (Resolve-Path -LiteralPath $ModulePath).ProviderPath -Force -ErrorAction Stop
    $env:RESTORETOOLS_VM_STATE = Join-Path ([IO.Path]::GetTempPath()) "restoretools-lvm-vms-$PID"
    $env:RESTORETOOLS_VM_SNAPSHOTS = Join-Path ([IO.Path]::GetTempPath()) "restoretools-lvm-snapshots-$PID"
    $script:Work = Join-Path ([IO.Path]::GetTempPath()) "restoretools-lvmtest-$PID"
    $null = New-Item -ItemType Directory -Path $Work -Force

    # Made once and kept in out/cache (the maker skips an up-to-date folder): about 20 s under TCG.
    $script:Lvm = Join-Path $PSScriptRoot '../../out/cache/lvm-images'
    $out = & bash (Join-Path $PSScriptRoot '../Lvm/make-lvm-images.sh') $Lvm 2>&1
    if ($LASTEXITCODE -ne 0) { throw "make-lvm-images.sh failed ($LASTEXITCODE): $($out -join "`n")" }
    $script:Images = [ordered]@{ 'lvm-a' = "$Lvm/lvm-a.img"; 'lvm-b' = "$Lvm/lvm-b.img"; 'lvm-c' = "$Lvm/lvm-c.img" }
    $script:Before = @{}
    foreach ($k in $Images.Keys) { $Before[$k] = (Get-FileHash -LiteralPath $Images[$k] -Algorithm SHA256).Hash }

    # "sha256  VG/LV/relative/path" for every file the maker VM wrote, grouped by LV.
    $script:Manifest = @{}
    foreach ($line in Get-Content -LiteralPath "$Lvm/manifest.sha256") {
        $hash, $path = $line -split '  ', 2
        $vg, $lv, $rel = $path -split '/', 3
        if (-not $Manifest["$vg/$lv"]) { $Manifest["$vg/$lv"] = [ordered]@{} }
        $Manifest["$vg/$lv"][$rel] = $hash.ToUpperInvariant()
    }

    # Copies an LV's whole tree out and checks every manifest file by sha256.
    function Assert-LvFiles($Session, [string] $Disk, [string] $Lv) {
        $dest = New-Item -ItemType Directory -Path (Join-Path $Work ("copy-" + ($Lv -replace '/', '_') + "-" + [guid]::NewGuid().ToString('N').Substring(0, 6))) -Force
        $sessionArgs = if ($Session) { @{ Session = $Session } } else { @{} }
        Copy-RestoreItem @sessionArgs -Path "/$Disk/lvm/$Lv" -Destination $dest -Recurse -ErrorAction Stop
        $root = $dest   # a bucket's root is copied as its entries
        $Manifest[$Lv].Count | Should -BeGreaterThan 3
        foreach ($rel in $Manifest[$Lv].Keys) {
            (Get-FileHash -LiteralPath (Join-Path $root $rel) -Algorithm SHA256).Hash | Should -Be $Manifest[$Lv][$rel] -Because "$Lv/$rel"
        }
    }
}

AfterAll {
    Get-RestoreVM -ErrorAction SilentlyContinue | ForEach-Object { Stop-RestoreVM -Id $_.Id -ErrorAction SilentlyContinue }
    Remove-Item -LiteralPath $Work, $env:RESTORETOOLS_VM_STATE, $env:RESTORETOOLS_VM_SNAPSHOTS -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'LVM in a restore VM, with every disk of the VG attached' {
    BeforeAll {
        $script:S = Start-RestoreVM -Image $Images -New -TimeoutSeconds 120 -IdleTimeoutSeconds 300
    }
    AfterAll { if ($S) { Stop-RestoreVM -Id $S.VmId -ErrorAction SilentlyContinue } }

    It 'lists the LVs of both VGs, a VG spanning two disks under each of them' {
        $a = Get-RestoreBucket -Session $S -Disk lvm-a | Where-Object Type -eq lvm
        $a.Component | Sort-Object | Should -Be @('vg-data/lv-mirror', 'vg-data/lv-origin', 'vg-data/lv-raid1', 'vg-data/lv-root',
            'vg-data/lv-snap', 'vg-data/lv-split', 'vg-data/lv-striped', 'vg-data/pool', 'vg-data/thin1', 'vg-data/thin2')
        (Get-RestoreBucket -Session $S -Disk lvm-b | Where-Object Type -eq lvm).Component | Sort-Object | Should -Be ($a.Component | Sort-Object)
        (Get-RestoreBucket -Session $S -Disk lvm-c | Where-Object Type -eq lvm).Component | Should -Be @('vg_single/home', 'vg_single/var')
        foreach ($b in $a | Where-Object Component -ne 'vg-data/pool') {
            $b.FileSystem | Should -Be 'ext4' -Because $b.Path
            # A snapshot holds its origin's filesystem, label included.
            $b.Label | Should -Be ($b.Component -split '/')[1].Replace('lv-snap', 'lv-origin') -Because $b.Path
            $b.Error | Should -BeNullOrEmpty -Because $b.Path
        }
        ($a | Where-Object Component -eq 'vg-data/lv-snap').Size | Should -Be ($a | Where-Object Component -eq 'vg-data/lv-origin').Size
        ($a | Where-Object Component -eq 'vg-data/pool').Error | Should -BeLike '*thin pool, not a volume*'
        $kinds = @{ 'lv-root' = 'linear'; 'lv-split' = 'linear'; 'lv-striped' = 'striped'; 'lv-raid1' = 'raid1'; 'lv-mirror' = 'mirror'
            'pool' = 'thin-pool'; 'thin1' = 'thin'; 'thin2' = 'thin'; 'lv-origin' = 'linear'; 'lv-snap' = 'snapshot' }
        foreach ($b in $a) { $b.VolumeType | Should -Be $kinds[($b.Component -split '/')[1]] -Because $b.Path }
        (Resolve-RestorePath -Session $S -Path /lvm-a/lvm/vg-data | Where-Object Name -eq thin1).Detail | Should -Be 'ext4 (thin)'
        # Partial paths: the VGs of a disk, then the LVs of a VG.
        (Resolve-RestorePath -Session $S -Path /lvm-c/lvm).Name | Should -Be @('vg_single')
        (Resolve-RestorePath -Session $S -Path /lvm-c/lvm/vg_single).Name | Should -Be @('home', 'var')
    }

    It 'reads an LV while another partition of its disk is mounted' {
        # device-mapper claims what it maps: the whole disk could not be claimed with part/1 mounted.
        $plain = Get-Content -LiteralPath "$Lvm/plain.sha256" | Where-Object { $_ -like '*  part1/bench.bin' }
        $dest = Join-Path $Work 'plain-bench.bin'
        Copy-RestoreItem -Session $S -Path /lvm-a/part/1/bench.bin -Destination $dest
        (Get-FileHash -LiteralPath $dest -Algorithm SHA256).Hash | Should -Be ($plain -split '  ')[0].ToUpperInvariant()
        Assert-LvFiles $S 'lvm-a' 'vg-data/lv-root'
    }

    # lv-raid1's leg 0 missed the last writes (the maker ran it degraded): the raid superblocks
    # on the legs say so, and leg 1 is read; leg 0 would give the old random.bin.
    It 'reads every file of every kind of LV byte for byte: <Lv>' -ForEach @(
        @{ Lv = 'vg-data/lv-root' }, @{ Lv = 'vg-data/lv-split' }, @{ Lv = 'vg-data/lv-striped' }, @{ Lv = 'vg-data/lv-raid1' },
        @{ Lv = 'vg-data/lv-mirror' }, @{ Lv = 'vg-data/thin1' }, @{ Lv = 'vg-data/thin2' }, @{ Lv = 'vg-data/lv-origin' },
        @{ Lv = 'vg-data/lv-snap' }) {
        Assert-LvFiles $S 'lvm-a' $Lv
    }

    It 'reads a VG on a logical partition, and one spanning two disks through its second disk' {
        Assert-LvFiles $S 'lvm-c' 'vg_single/home'
        Assert-LvFiles $S 'lvm-c' 'vg_single/var'
        Assert-LvFiles $S 'lvm-b' 'vg-data/lv-split'
    }

    It 'shows the snapshot as it was and the origin as it is now' {
        $Manifest['vg-data/lv-snap']['random.bin'] | Should -Not -Be $Manifest['vg-data/lv-origin']['random.bin']
        Get-RestoreChildItem -Session $S -Path /lvm-a/lvm/vg-data/lv-origin | Select-Object -ExpandProperty Name | Should -Contain 'after-snapshot.txt'
        Get-RestoreChildItem -Session $S -Path /lvm-a/lvm/vg-data/lv-snap | Select-Object -ExpandProperty Name | Should -Not -Contain 'after-snapshot.txt'
    }

    It 'unmounts two thin volumes of one pool and mounts one again (its devices are made anew)' {
        Dismount-RestoreBucket -Session $S -Path /lvm-a/lvm/vg-data/thin1
        Dismount-RestoreBucket -Session $S -Path /lvm-a/lvm/vg-data/thin2
        (Get-RestoreBucket -Session $S -Disk lvm-a | Where-Object Path -eq /lvm-a/lvm/vg-data/thin1).IsMounted | Should -BeFalse
        Get-RestoreContent -Session $S -Path /lvm-a/lvm/vg-data/thin2/thin2.txt | Should -BeLike '*vg-data/thin2*'
        Get-RestoreContent -Session $S -Path /lvm-a/lvm/vg-data/thin1/thin1.txt | Should -BeLike '*vg-data/thin1*'
    }

    It 'leaves the images byte-identical' {
        Stop-RestoreVM -Id $S.VmId
        $script:S = $null
        foreach ($k in $Images.Keys) { (Get-FileHash -LiteralPath $Images[$k] -Algorithm SHA256).Hash | Should -Be $Before[$k] -Because $k }
    }
}

Describe 'LVM in a restore VM with a disk of the VG missing' {
    It 'names the missing PV, and reads a raid1 and a mirror from the leg that is there' {
        # Only lvm-b: lv-raid1's leg 1 and lv-mirror's leg 1 are on it, the other legs on lvm-a.
        $vm = Start-RestoreVM -Image @{ 'lvm-b' = $Images['lvm-b'] } -New -TimeoutSeconds 120 -IdleTimeoutSeconds 300
        try {
            $b = Get-RestoreBucket -Session $vm -Disk lvm-b | Where-Object Type -eq lvm
            ($b | Where-Object Component -eq 'vg-data/lv-split').Error | Should -BeLike '*PV pv0 (*) is missing: attach the disk that holds it*'
            ($b | Where-Object Component -eq 'vg-data/lv-root').Error | Should -BeLike '*is missing*'
            ($b | Where-Object Component -eq 'vg-data/lv-striped').Error | Should -BeLike '*is missing*'
            ($b | Where-Object Component -eq 'vg-data/thin1').Error | Should -BeLike '*is missing*'
            Assert-LvFiles $vm 'lvm-b' 'vg-data/lv-raid1'
            Assert-LvFiles $vm 'lvm-b' 'vg-data/lv-mirror'
            $err = $null
            $null = Get-RestoreChildItem -Session $vm -Path /lvm-b/lvm/vg-data/lv-split -ErrorVariable err -ErrorAction SilentlyContinue
            "$err" | Should -BeLike '*is missing: attach the disk that holds it*'
        }
        finally { Stop-RestoreVM -Id $vm.VmId }
    }
}

Describe 'LVM on this host (no device-mapper)' {
    It 'reads a linear LV of one run, and says the others need the restore VM' {
        # lvm-b alone: lv-root's PV is on lvm-a, which is not attached yet; once it is, the VG is whole.
        $null = Mount-RestoreImage -Path $Images['lvm-b'] -Name 'lvm-b'
        try {
            (Get-RestoreBucket -Disk lvm-b | Where-Object Component -eq 'vg-data/lv-root').Error | Should -BeLike '*its PV * is missing: attach the disk that holds it*'
            $null = Mount-RestoreImage -Path $Images['lvm-a'] -Name 'lvm-a'
            $null = Mount-RestoreImage -Path $Images['lvm-c'] -Name 'lvm-c'
            (Get-RestoreBucket -Disk lvm-b | Where-Object Component -eq 'vg-data/lv-root').Error | Should -BeNullOrEmpty
            Assert-LvFiles $null 'lvm-b' 'vg-data/lv-root'
            Assert-LvFiles $null 'lvm-a' 'vg-data/lv-root'
            Assert-LvFiles $null 'lvm-c' 'vg_single/home'
            $b = Get-RestoreBucket -Disk lvm-a | Where-Object Type -eq lvm
            ($b | Where-Object Component -eq 'vg-data/lv-split').Error | Should -BeLike '*a linear LV in 2 runs: reading it needs device-mapper*use Start-RestoreVM*'
            ($b | Where-Object Component -eq 'vg-data/thin1').Error | Should -BeLike '*a thin LV: reading it needs device-mapper*'
            ($b | Where-Object Component -eq 'vg-data/lv-snap').Error | Should -BeLike '*a snapshot LV: reading it needs device-mapper*'
            # Tab completion goes level by level through VG and LV, and offers whole bucket paths.
            foreach ($case in @(
                    @('Resolve-RestorePath /lvm-a/lvm/', '/lvm-a/lvm/vg-data/'),
                    @('Resolve-RestorePath /lvm-a/lvm/vg-data/lv-r', '/lvm-a/lvm/vg-data/lv-root/'),
                    @('Resolve-RestorePath /lvm-a/lvm/vg-data/lv-root/nested/le', '/lvm-a/lvm/vg-data/lv-root/nested/level1.txt'),
                    @('Mount-RestoreBucket -Path /lvm-c/lvm/', '/lvm-c/lvm/vg_single/home'))) {
                (TabExpansion2 -inputScript $case[0] -cursorColumn $case[0].Length).CompletionMatches.CompletionText | Should -Contain $case[1] -Because $case[0]
            }
        }
        finally { foreach ($k in $Images.Keys) { Dismount-RestoreImage -Name $k -ErrorAction SilentlyContinue } }
        foreach ($k in $Images.Keys) { (Get-FileHash -LiteralPath $Images[$k] -Algorithm SHA256).Hash | Should -Be $Before[$k] -Because $k }
    }
}
