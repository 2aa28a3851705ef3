#Requires -Version 7.4
# Every filesystem of issue 13 that Debian's kernel has, read through a restore VM: one image per
# filesystem made by its real mkfs and filled with the same files (tests/FileSystems/make-fs-images.sh:
# by makefs, hcopy, sload.f2fs and xorriso (HFS+) on this host, the rest in a maker VM, since this host's kernel has none
# of these drivers). Each file is compared by sha256, a folder is listed, the probe's type and label are
# compared with blkid -p, and the images must be byte-identical afterwards. Also: btrfs subvolumes through
# the VM, the clear error for makefs's UFS2, and formats that are named, not mounted (swap, APFS).

BeforeAll {
    $ModulePath = if ($env:RESTORETOOLS_MODULE) { $env:RESTORETOOLS_MODULE } else { Join-Path $PSScriptRoot '../../out/RestoreTools/RestoreTools.psd1' }
    Import-Module (Resolve-Path -LiteralPath $ModulePath).ProviderPath -Force -ErrorAction Stop
    $env:RESTORETOOLS_VM_STATE = Join-Path ([IO.Path]::GetTempPath()) "restoretools-fs-vms-$PID"
    $env:RESTORETOOLS_VM_SNAPSHOTS = Join-Path ([IO.Path]::GetTempPath()) "restoretools-fs-snapshots-$PID"
    $script:Work = Join-Path ([IO.Path]::GetTempPath()) "restoretools-fstest-$PID"
    $null = New-Item -ItemType Directory -Path $Work -Force

    function Invoke-Tool([string] $Script) {
        $out = & bash -c $Script 2>&1
        if ($LASTEXITCODE -ne 0) { throw "failed ($LASTEXITCODE): $Script`n$($out -join "`n")" }
        $out
    }

    # Made once and kept in out/cache (the maker skips an up-to-date folder).
    $script:Fs = Join-Path $PSScriptRoot '../../out/cache/fs-images'
    $out = & bash (Join-Path $PSScriptRoot '../FileSystems/make-fs-images.sh') $Fs 2>&1
    if ($LASTEXITCODE -ne 0) { throw "make-fs-images.sh failed ($LASTEXITCODE): $($out -join "`n")" }
    $script:Types = 'f2fs', 'jfs', 'reiserfs', 'udf', 'nilfs2', 'minix', 'hfs', 'hfsplus', 'ufs1', 'ufs2'
    $script:Images = [ordered]@{}
    foreach ($t in $Types) { $Images[$t] = "$Fs/$t.img" }

    # btrfs with subvolumes, made here on a loop mount: the default one (@) and others outside it.
    $script:Btrfs = Join-Path $Work 'btrfs.img'
    Invoke-Tool @"
set -e
truncate -s 128M '$Btrfs'
mkfs.btrfs -q -f -L btrfs-label '$Btrfs'
m=`$(mktemp -d)
mount -o loop '$Btrfs' "`$m"
trap 'umount "`$m"; rmdir "`$m"' EXIT
btrfs -q subvolume create "`$m/@"
btrfs -q subvolume create "`$m/@home"
mkdir -p "`$m/@/etc" "`$m/@home/user"
echo vm-host > "`$m/@/etc/hostname"
echo 'outside the default' > "`$m/@home/user/notes.txt"
btrfs subvolume set-default "`$m/@"
"@ | Out-Null
    $Images['btrfs'] = $Btrfs
    # btrfs copied while mounted, after an fsync and before the commit: the fsync'd file is only in the log tree.
    $script:BtrfsLive = Join-Path $Work 'btrfs-live.img'
    Invoke-Tool @"
set -e
src=`$(mktemp -d)
truncate -s 128M "`$src/live.img"
mkfs.btrfs -q -f "`$src/live.img"
mkdir "`$src/m"
mount -o loop,commit=300 "`$src/live.img" "`$src/m"
trap 'umount "`$src/m"; rm -rf "`$src"' EXIT
echo committed > "`$src/m/committed.txt"
sync
echo logged > "`$src/m/logged.txt"
xfs_io -c fsync "`$src/m/logged.txt"
cp --sparse=always "`$src/live.img" '$BtrfsLive'
"@ | Out-Null
    $Images['btrfs-live'] = $BtrfsLive

    $script:Before = @{}
    foreach ($k in $Images.Keys) { $Before[$k] = (Get-FileHash -LiteralPath $Images[$k] -Algorithm SHA256).Hash }
    $script:Manifest = [ordered]@{}
    foreach ($line in Get-Content -LiteralPath "$Fs/manifest.sha256") {
        $hash, $path = $line -split '  ', 2
        $Manifest[$path] = $hash.ToUpperInvariant()
    }
    # blkid -p on the same bytes: TYPE, LABEL, UUID (-o export escapes spaces and such with a backslash).
    function Get-Blkid([string] $File) {
        $h = @{}
        foreach ($kv in (& blkid -p -o export $File)) { $k, $v = $kv -split '=', 2; $h[$k] = $v -replace '\\(.)', '$1' }
        $h
    }
}

AfterAll {
    Get-RestoreVM -ErrorAction SilentlyContinue | ForEach-Object { Stop-RestoreVM -Id $_.Id -ErrorAction SilentlyContinue }
    Remove-Item -LiteralPath $Work, $env:RESTORETOOLS_VM_STATE, $env:RESTORETOOLS_VM_SNAPSHOTS -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Every filesystem in a restore VM' {
    BeforeAll {
        $script:S = Start-RestoreVM -Image $Images -New -TimeoutSeconds 180 -IdleTimeoutSeconds 600
    }
    AfterAll { if ($S) { Stop-RestoreVM -Id $S.VmId -ErrorAction SilentlyContinue } }

    It 'names <T> as blkid -p does (type, label, UUID)' -ForEach @(
        @{ T = 'f2fs' }, @{ T = 'jfs' }, @{ T = 'reiserfs' }, @{ T = 'udf' }, @{ T = 'nilfs2' }, @{ T = 'minix' },
        @{ T = 'hfs' }, @{ T = 'hfsplus' }, @{ T = 'ufs1' }, @{ T = 'ufs2' }, @{ T = 'btrfs' }) {
        $b = Get-RestoreBucket -Session $S -Disk $T
        $b.Path | Should -Be "/$T/raw"
        $blkid = Get-Blkid $Images[$T]
        $b.FileSystem | Should -Be $blkid['TYPE']
        $b.Label | Should -Be $blkid['LABEL']
        $b.Uuid | Should -Be $blkid['UUID']
        $b.Error | Should -BeNullOrEmpty
    }

    It 'reads every file of <T> by sha256 and lists a folder' -ForEach @(
        @{ T = 'f2fs' }, @{ T = 'jfs' }, @{ T = 'reiserfs' }, @{ T = 'udf' }, @{ T = 'nilfs2' }, @{ T = 'minix' },
        @{ T = 'hfs' }, @{ T = 'hfsplus' }, @{ T = 'ufs1' }) {
        $dest = New-Item -ItemType Directory -Path (Join-Path $Work "copy-$T") -Force
        Copy-RestoreItem -Session $S -Path "/$T/raw" -Destination $dest -Recurse -ErrorAction Stop
        $Manifest.Count | Should -Be 7
        foreach ($rel in $Manifest.Keys) {
            (Get-FileHash -LiteralPath (Join-Path $dest $rel) -Algorithm SHA256).Hash | Should -Be $Manifest[$rel] -Because "$T/$rel"
        }
        (Get-RestoreChildItem -Session $S -Path "/$T/raw/folder").Name | Sort-Object | Should -Be @('one.txt', 'three.txt', 'two.txt')
        (Get-RestoreChildItem -Session $S -Path "/$T/raw").Name | Should -Contain 'name with spaces.txt'
    }

    It 'says plainly why the UFS2 that makefs writes does not mount, with the kernel''s own line' {
        $err = $null
        try { Mount-RestoreBucket -Session $S -Path /ufs2/raw -ErrorAction Stop } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike 'MountFailed,*'
        $m = $err.Exception.Message
        $m | Should -BeLike "*ufs did not mount (tried ufstype=ufs2: Invalid argument; kernel: ufs: *"
        # 44bsd finds the UFS2 magic at 8 KiB but reads it as UFS1; this kernel then fails (ESTALE in 6.1).
        $m | Should -BeLike '*; ufstype=44bsd: *'
        $m | Should -BeLike '*UFS2 superblock is at 8 KiB (NetBSD makefs writes it there); Linux reads UFS2 only at 64 KiB*'
        Write-Host "    ufs2 error: $m"
    }

    It 'shows every btrfs subvolume as a folder of the top level and names the default one' {
        # Read off the disk before the mount, then the kernel's own answer.
        (Get-RestoreBucket -Session $S -Disk btrfs).DefaultSubvolume | Should -Be '/@'
        $b = Mount-RestoreBucket -Session $S -Path /btrfs/raw -PassThru
        $b.DefaultSubvolume | Should -Be '/@'
        (Get-RestoreBucket -Session $S -Disk btrfs).DefaultSubvolume | Should -Be '/@'
        (Get-RestoreChildItem -Session $S -Path /btrfs/raw).Name | Sort-Object | Should -Be @('@', '@home')
        (Get-RestoreContent -Session $S -Path /btrfs/raw/@/etc/hostname) | Should -Be 'vm-host'
        (Get-RestoreContent -Session $S -Path '/btrfs/raw/@home/user/notes.txt') | Should -Be 'outside the default'
    }

    It 'replays a btrfs log tree into the overlay, so the file fsync''d before the backup is there' {
        $b = Mount-RestoreBucket -Session $S -Path /btrfs-live/raw -PassThru
        $b.JournalReplayed | Should -BeTrue
        Get-RestoreContent -Session $S -Path /btrfs-live/raw/logged.txt | Should -Be 'logged'
        Get-RestoreContent -Session $S -Path /btrfs-live/raw/committed.txt | Should -Be 'committed'
    }

    It 'leaves every image byte-identical' {
        Stop-RestoreVM -Id $S.VmId
        $script:S = $null
        foreach ($k in $Images.Keys) { (Get-FileHash -LiteralPath $Images[$k] -Algorithm SHA256).Hash | Should -Be $Before[$k] -Because $k }
    }
}

Describe 'Every filesystem in a restore VM with -NoRecovery (read-only disks, options that never write)' {
    It 'reads a file of every one' {
        $vm = Start-RestoreVM -Image $Images -New -NoRecovery -TimeoutSeconds 180 -IdleTimeoutSeconds 600
        try {
            foreach ($t in 'f2fs', 'jfs', 'reiserfs', 'udf', 'nilfs2', 'minix', 'hfs', 'hfsplus', 'ufs1') {
                Get-RestoreContent -Session $vm -Path "/$t/raw/nested/deeper/note.txt" | Should -Be 'a nested file' -Because $t
            }
            (Get-RestoreBucket -Session $vm -Disk btrfs | Mount-RestoreBucket -Session $vm -PassThru).DefaultSubvolume | Should -Be '/@'
            # Read-only disks: the log tree is not replayed (rescue=nologreplay), and the bucket says so.
            $live = Get-RestoreBucket -Session $vm -Disk btrfs-live
            $live.Warnings | Should -BeLike 'its btrfs journal holds changes*'
            Get-RestoreContent -Session $vm -Path /btrfs-live/raw/committed.txt | Should -Be 'committed'
            (Get-RestoreChildItem -Session $vm -Path /btrfs-live/raw).Name | Should -Not -Contain 'logged.txt'
        }
        finally { Stop-RestoreVM -Id $vm.VmId -ErrorAction SilentlyContinue }
        foreach ($k in $Images.Keys) { (Get-FileHash -LiteralPath $Images[$k] -Algorithm SHA256).Hash | Should -Be $Before[$k] -Because $k }
    }
}

Describe 'The same images on this host, whose kernel has none of these drivers' {
    It 'says for <T> that this host cannot mount it and a restore VM can' -ForEach @(
        @{ T = 'f2fs'; Type = 'f2fs' }, @{ T = 'jfs'; Type = 'jfs' }, @{ T = 'reiserfs'; Type = 'reiserfs' }, @{ T = 'udf'; Type = 'udf' },
        @{ T = 'nilfs2'; Type = 'nilfs2' }, @{ T = 'minix'; Type = 'minix' }, @{ T = 'hfs'; Type = 'hfs' }, @{ T = 'hfsplus'; Type = 'hfsplus' }, @{ T = 'ufs1'; Type = 'ufs' }) {
        if ((Get-Content /proc/filesystems) -match "\s$Type`$") { Set-ItResult -Skipped -Because "this host's kernel has $Type"; return }
        $name = "host$T$PID"
        Mount-RestoreImage -LiteralPath $Images[$T] -Name $name -ErrorAction Stop
        try {
            (Get-RestoreBucket -Disk $name).FileSystem | Should -Be $Type
            $err = $null
            try { Mount-RestoreBucket -Path "/$name/raw" -ErrorAction Stop } catch { $err = $_ }
            $err.Exception.Message | Should -Be "mounting '/$name/raw' failed: ${Type}: this host cannot mount it; use Start-RestoreVM"
        }
        finally { Dismount-RestoreImage -Name $name -Confirm:$false -ErrorAction SilentlyContinue }
        (Get-FileHash -LiteralPath $Images[$T] -Algorithm SHA256).Hash | Should -Be $Before[$T]
    }

    It 'says for makefs''s UFS2 that no Linux reads it, rather than sending the user to a restore VM' {
        $name = "hostufs2$PID"
        Mount-RestoreImage -LiteralPath $Images['ufs2'] -Name $name -ErrorAction Stop
        try {
            $err = $null
            try { Mount-RestoreBucket -Path "/$name/raw" -ErrorAction Stop } catch { $err = $_ }
            $err.Exception.Message | Should -BeLike "mounting '/$name/raw' failed: ufs: its UFS2 superblock is at 8 KiB*no ufstype mounts it"
        }
        finally { Dismount-RestoreImage -Name $name -Confirm:$false -ErrorAction SilentlyContinue }
    }

    It 'reads btrfs subvolumes here too, the default one named' {
        $name = "hostbtrfs$PID"
        Mount-RestoreImage -LiteralPath $Btrfs -Name $name -ErrorAction Stop
        try {
            (Get-RestoreBucket -Disk $name).DefaultSubvolume | Should -Be '/@'
            (Mount-RestoreBucket -Path "/$name/raw" -PassThru).DefaultSubvolume | Should -Be '/@'
            Get-RestoreContent -Path "/$name/raw/@home/user/notes.txt" | Should -Be 'outside the default'
        }
        finally { Dismount-RestoreImage -Name $name -Confirm:$false -ErrorAction SilentlyContinue }
        (Get-FileHash -LiteralPath $Btrfs -Algorithm SHA256).Hash | Should -Be $Before['btrfs']
    }
}

Describe 'Formats that are named, not mounted, on this host' {
    It 'shows <T> with its type and the reason it is not read' -ForEach @(
        @{ T = 'swap'; Make = 'mkswap -q -L swaplabel'; Reason = 'swap space: holds no files' }
        @{ T = 'apfs'; Make = 'mkapfs -L apfslabel'; Reason = 'Apple APFS: no Linux kernel driver reads it; not supported' }) {
        $img = Join-Path $Work "$T.img"
        Invoke-Tool "truncate -s 128M '$img' && $Make '$img' >/dev/null" | Out-Null
        $name = "named$T$PID"
        Mount-RestoreImage -LiteralPath $img -Name $name -ErrorAction Stop
        try {
            $b = Get-RestoreBucket -Disk $name
            $b.FileSystem | Should -Be (Get-Blkid $img)['TYPE']
            $b.FileSystem | Should -Be $T
            $b.Error | Should -Be $Reason
            $err = $null
            try { Mount-RestoreBucket -Path "/$name/raw" -ErrorAction Stop } catch { $err = $_ }
            $err.Exception.Message | Should -BeLike "*$Reason*"
        }
        finally { Dismount-RestoreImage -Name $name -Confirm:$false -ErrorAction SilentlyContinue }
    }
}
