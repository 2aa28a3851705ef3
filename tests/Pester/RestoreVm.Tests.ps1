#Requires -Version 7.4
# End to end through a real restore VM under qemu: the images become read-only virtio disks named
# by serial, the agent inside answers over virtio-serial ports, and the module drives it all.
# vfat is read inside the VM by the agent's own FAT reader (FUSE). The first start saves
# a boot snapshot in a folder of this run and resumes it; -NoSnapshot boots the kernel.

BeforeAll {
    $ModulePath = if ($env:RESTORETOOLS_MODULE) { $env:RESTORETOOLS_MODULE } else { Join-Path $PSScriptRoot '../../out/RestoreTools/RestoreTools.psd1' }
    Import-Module (Resolve-Path -LiteralPath $ModulePath).ProviderPath -Force -ErrorAction Stop
    $Sample = if ($env:RESTORETOOLS_SAMPLE) { $env:RESTORETOOLS_SAMPLE } else { Join-Path $PSScriptRoot '../../out/sample/sample.img' }
    $env:RESTORETOOLS_VM_STATE = Join-Path ([IO.Path]::GetTempPath()) "restoretools-vms-$PID"
    $env:RESTORETOOLS_VM_SNAPSHOTS = Join-Path ([IO.Path]::GetTempPath()) "restoretools-snapshots-$PID"

    function Invoke-Tool([string] $File, [string[]] $ArgumentList, [string] $InputText) {
        $out = if ($InputText) { $InputText | & $File @ArgumentList 2>&1 } else { & $File @ArgumentList 2>&1 }
        if ($LASTEXITCODE -ne 0) { throw "$File $($ArgumentList -join ' ') failed ($LASTEXITCODE): $out" }
    }
    function Get-Errors([scriptblock] $Script) {
        $ErrorActionPreference = 'Continue'
        , @(& $Script 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
    }

    $script:Work = Join-Path ([IO.Path]::GetTempPath()) "restoretools-vmtest-$PID"
    $null = New-Item -ItemType Directory -Path $Work -Force

    # MBR: partition 1 ext4, 2 extended, 5 logical ext4 (numbered from 5 as Linux does).
    foreach ($n in 'prim', 'logi') {
        $null = New-Item -ItemType Directory -Path "$Work/$n" -Force
        Set-Content -LiteralPath "$Work/$n/which.txt" -Value "$n partition"
        Invoke-Tool truncate '-s', '16M', "$Work/$n.fs"
        Invoke-Tool mkfs.ext4 '-q', '-F', '-L', $n, '-d', "$Work/$n", "$Work/$n.fs"
    }
    $script:Mbr = Join-Path $Work 'mbr.img'
    Invoke-Tool truncate '-s', '64M', $Mbr
    Invoke-Tool sfdisk '-q', $Mbr -InputText "label: dos`nstart=2048, size=32768, type=83`nstart=34816, size=90112, type=5`nstart=36864, size=32768, type=83`n"
    Invoke-Tool dd "if=$Work/prim.fs", "of=$Mbr", 'bs=512', 'seek=2048', 'conv=notrunc', 'status=none'
    Invoke-Tool dd "if=$Work/logi.fs", "of=$Mbr", 'bs=512', 'seek=36864', 'conv=notrunc', 'status=none'

    # A raw ext4 disk with no partition table.
    $null = New-Item -ItemType Directory -Path "$Work/raw/docs" -Force
    Set-Content -LiteralPath "$Work/raw/docs/readme.txt" -Value 'raw disk readme'
    $script:Raw = Join-Path $Work 'raw.img'
    Invoke-Tool truncate '-s', '16M', $Raw
    Invoke-Tool mkfs.ext4 '-q', '-F', '-L', 'rawfs', '-d', "$Work/raw", $Raw

    # The same raw disk as qcow2: the VM states format=qcow2 from the extension (raw is never probed).
    $script:Qcow = Join-Path $Work 'raw-as.qcow2'
    Invoke-Tool qemu-img 'convert', '-f', 'raw', '-O', 'qcow2', $Raw, $Qcow

    $script:Images = [ordered]@{ 'gpt-disk' = $Sample; 'mbr-disk' = $Mbr; 'raw-disk' = $Raw; 'qcow-disk' = $Qcow }
    $script:Before = @{}
    foreach ($k in $Images.Keys) { $Before[$k] = (Get-FileHash -LiteralPath $Images[$k] -Algorithm SHA256).Hash }

    # The VM image comes from './build.sh VmImage' (a dependency of Test): no image is a failure, not a skip.
    $script:Started = [Diagnostics.Stopwatch]::StartNew()
    $script:S = Start-RestoreVM -Image $Images -TimeoutSeconds 120 -IdleTimeoutSeconds 300
    $Started.Stop()
    Write-Host "    restore VM answered after $($Started.Elapsed.TotalSeconds.ToString('0.0')) s (boot snapshot saved, then resumed)"

    function Get-Token($Session) { (Get-Content -LiteralPath (Get-RestoreVM | Where-Object Id -eq $Session.VmId).TokenFile -Raw).Trim() }
}

AfterAll {
    Get-RestoreVM -ErrorAction SilentlyContinue | ForEach-Object { Stop-RestoreVM -Id $_.Id -ErrorAction SilentlyContinue }
    Remove-Item -LiteralPath $Work, $env:RESTORETOOLS_VM_STATE, $env:RESTORETOOLS_VM_SNAPSHOTS -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'A restore VM' {
    It 'is listed by Get-RestoreVM with its images' {
        $vm = Get-RestoreVM | Where-Object Id -eq $S.VmId
        $vm | Should -Not -BeNullOrEmpty
        $vm.Pid | Should -BeGreaterThan 0
        ($vm.Images.Name | Sort-Object) | Should -Be @('gpt-disk', 'mbr-disk', 'qcow-disk', 'raw-disk')
        ($vm.Images | Where-Object Name -eq 'qcow-disk').Format | Should -Be 'qcow2'
        ($vm.Images | Where-Object Name -eq 'raw-disk').Format | Should -Be 'raw'
        # No vhost-vsock on this host: the default transport is virtio-serial (RestoreVmTransport.Tests.ps1).
        $vm.Transport | Should -Be 'virtio-serial'
        $vm.Endpoint | Should -Be "virtio-serial:$($vm.StateDir)"
        $vm.Boot | Should -Be 'snapshot'
        @(Get-ChildItem -LiteralPath $env:RESTORETOOLS_VM_SNAPSHOTS -Directory).Count | Should -Be 1
    }

    It 'names its disks by the virtio serial' {
        $disks = Get-RestoreDisk -Session $S
        ($disks.Name | Sort-Object) | Should -Be @('gpt-disk', 'mbr-disk', 'qcow-disk', 'raw-disk')
        ($disks | Where-Object Name -eq 'gpt-disk').Source | Should -Be 'virtio'
        ($disks | Where-Object Name -eq 'gpt-disk').Size | Should -Be (Get-Item -LiteralPath $Images['gpt-disk']).Length
    }

    It 'lists the buckets of every disk' {
        $b = Get-RestoreBucket -Session $S
        ($b | Where-Object Disk -eq 'gpt-disk').FileSystem | Should -Be @('ext4', 'xfs', 'vfat')
        ($b | Where-Object Disk -eq 'mbr-disk').Component | Should -Be @('1', '2', '5')
        ($b | Where-Object { $_.Disk -eq 'mbr-disk' -and $_.Component -eq '5' }).Label | Should -Be 'logi'
        $raw = $b | Where-Object Disk -eq 'raw-disk'
        $raw.Type | Should -Be 'raw'
        $raw.Label | Should -Be 'rawfs'
    }

    It 'reads files on ext4, xfs, vfat (mounted in the VM), a logical partition and a raw disk' {
        Get-RestoreContent -Session $S -Path /gpt-disk/part/1/etc/hostname | Should -Be 'restore-demo'
        Get-RestoreContent -Session $S -Path /gpt-disk/part/2/reports/2026/summary.txt | Should -Be 'Summary 2026: 3 restores, 0 failures.'
        Get-RestoreContent -Session $S -Path /gpt-disk/part/3/EFI/BOOT/readme.txt | Should -Be 'RestoreTools sample EFI system partition.'
        Get-RestoreContent -Session $S -Path /mbr-disk/part/5/which.txt | Should -Be 'logi partition'
        Get-RestoreContent -Session $S -Path /raw-disk/raw/docs/readme.txt | Should -Be 'raw disk readme'
        Get-RestoreContent -Session $S -Path /qcow-disk/raw/docs/readme.txt | Should -Be 'raw disk readme'
        # The archive name with its Proxmox suffix finds the disk too.
        Get-RestoreContent -Session $S -Path /raw-disk.img.fidx/raw/docs/readme.txt | Should -Be 'raw disk readme'
    }

    It 'lists a folder' {
        $items = Get-RestoreChildItem -Session $S -Path /gpt-disk/part/1/etc
        $items.Name | Should -Contain 'hostname'
        ($items | Where-Object Name -eq 'localtime').Type | Should -Be 'Symlink'
        ($items | Where-Object Name -eq 'localtime').LinkTarget | Should -Be '/usr/share/zoneinfo/UTC'
    }

    It 'copies a tree that matches the image by checksum' {
        $dest = New-Item -ItemType Directory -Path (Join-Path $Work 'copy') -Force
        Copy-RestoreItem -Session $S -Path /gpt-disk/part/1/home -Destination $dest -Recurse
        (Get-FileHash -LiteralPath "$dest/home/alice/notes.txt").Hash |
            Should -Be (Get-FileHash -InputStream ([IO.MemoryStream]::new([Text.Encoding]::UTF8.GetBytes("Alice notes: the quarterly backup lives on the data volume.`n")))).Hash
        $dest2 = New-Item -ItemType Directory -Path (Join-Path $Work 'copy-efi') -Force
        Copy-RestoreItem -Session $S -Path /gpt-disk/part/3/EFI -Destination $dest2 -Recurse
        Get-Content -LiteralPath "$dest2/EFI/BOOT/readme.txt" | Should -Be 'RestoreTools sample EFI system partition.'
    }

    It 'exports a tar that tar reads' {
        $tar = Join-Path $Work 'reports.tar'
        Export-RestoreItem -Session $S -Path /gpt-disk/part/2/reports -Destination $tar
        $x = New-Item -ItemType Directory -Path (Join-Path $Work 'untar') -Force
        & tar -xf $tar -C $x
        $LASTEXITCODE | Should -Be 0
        Get-Content -LiteralPath "$x/reports/2026/summary.txt" | Should -Be 'Summary 2026: 3 restores, 0 failures.'
    }

    It 'exports items of three disks, piped, into one archive, and copies a tree filtered and flat' {
        $tar = Join-Path $Work 'several.tar'
        # Items (which carry the session) and a plain path string, piped together.
        $items = @(Get-RestoreChildItem -Session $S -Path /gpt-disk/part/1/etc/hostname) + @(Get-RestoreChildItem -Session $S -Path /mbr-disk/part/5/which.txt) +
            @('/raw-disk/raw/docs')
        $items | Export-RestoreItem -Session $S -Destination $tar
        (& tar -tf $tar | Sort-Object) | Should -Be @('docs/', 'docs/readme.txt', 'hostname', 'which.txt')
        $x = New-Item -ItemType Directory -Path (Join-Path $Work 'untar-several') -Force
        & tar -xf $tar -C $x
        Get-Content -LiteralPath "$x/which.txt" | Should -Be 'logi partition'
        Get-Content -LiteralPath "$x/docs/readme.txt" | Should -Be 'raw disk readme'
        $flat = Join-Path $Work 'flat-vm'
        Copy-RestoreItem -Session $S -Path /gpt-disk/part/1 -Destination $flat -Recurse -Container:$false -Include '*.txt'
        @(Get-ChildItem -LiteralPath $flat -Directory).Count | Should -Be 0
        (Get-ChildItem -LiteralPath $flat -File).Name | Should -Contain 'notes.txt'
    }

    It 'refuses a wrong token' {
        $bad = ConvertTo-SecureString 'wrong-token' -AsPlainText -Force
        { Connect-RestoreAgent -Uri $S.Endpoint -Token $bad } | Should -Throw -ErrorId 'AgentUnauthorized*'
    }

    It 'reuses the running VM for the same images' {
        $again = Start-RestoreVM -Image $Images
        $again.VmId | Should -Be $S.VmId
        $again | Disconnect-RestoreAgent
    }

    It 'is gone after Stop-RestoreVM, and the images are unchanged' {
        $vmPid = (Get-RestoreVM | Where-Object Id -eq $S.VmId).Pid
        (Get-RestoreVM -All).Id | Should -Contain $S.VmId
        # The session piped in stops its own VM (not a VM whose id is the session's number).
        $S | Stop-RestoreVM
        # Gone, or a zombie that init has yet to reap: either way not running.
        $state = (Get-Content -LiteralPath "/proc/$vmPid/stat" -Raw -ErrorAction SilentlyContinue) -replace '(?s)^.*\) (\S).*$', '$1'
        $state | Should -BeIn @($null, '', 'Z', 'X')
        Get-RestoreVM | Where-Object Id -eq $S.VmId | Should -BeNullOrEmpty
        $S.IsOpen | Should -BeFalse
        foreach ($k in $Images.Keys) { (Get-FileHash -LiteralPath $Images[$k] -Algorithm SHA256).Hash | Should -Be $Before[$k] }
    }

    It 'takes image files piped from Get-ChildItem' {
        $vm = Get-Item -LiteralPath $Raw | Start-RestoreVM -New -IdleTimeoutSeconds 300 -TimeoutSeconds 120
        try {
            @(Get-RestoreDisk -Session $vm).Count | Should -Be 1
            $disk = (Get-RestoreDisk -Session $vm).Name
            Get-RestoreContent -Session $vm -Path "/$disk/raw/docs/readme.txt" | Should -Be 'raw disk readme'
        }
        finally { $vm | Stop-RestoreVM }
    }

    It 'boots the kernel with -NoSnapshot, and serves the same' {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $cold = Start-RestoreVM -Image @{ 'gpt-disk' = $Sample; 'raw-disk' = $Raw } -NoSnapshot -TimeoutSeconds 120
        Write-Host "    cold boot answered after $($sw.Elapsed.TotalSeconds.ToString('0.0')) s"
        try {
            (Get-RestoreVM | Where-Object Id -eq $cold.VmId).Boot | Should -Be 'cold'
            Get-RestoreContent -Session $cold -Path /gpt-disk/part/3/EFI/BOOT/readme.txt | Should -Be 'RestoreTools sample EFI system partition.'
            Get-RestoreContent -Session $cold -Path /raw-disk/raw/docs/readme.txt | Should -Be 'raw disk readme'
        }
        finally { Stop-RestoreVM -Id $cold.VmId }
    }

    It 'gives each resumed VM its own token, and one VM refuses the token of another' {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        # The same idle timeout as the first start: it is part of the snapshot (the kernel command line).
        $a = Start-RestoreVM -Image @{ 'mbr-disk' = $Mbr } -New -IdleTimeoutSeconds 300
        Write-Host "    resumed from the snapshot in $($sw.Elapsed.TotalSeconds.ToString('0.00')) s"
        $b = Start-RestoreVM -Image @{ 'raw-disk' = $Raw; 'qcow-disk' = $Qcow } -New -IdleTimeoutSeconds 300
        try {
            @(Get-ChildItem -LiteralPath $env:RESTORETOOLS_VM_SNAPSHOTS -Directory).Count | Should -Be 1
            (Get-RestoreVM | Where-Object Id -in $a.VmId, $b.VmId).Boot | Should -Be @('snapshot', 'snapshot')
            (Get-RestoreDisk -Session $a).Name | Should -Be 'mbr-disk'
            ((Get-RestoreDisk -Session $b).Name | Sort-Object) | Should -Be @('qcow-disk', 'raw-disk')
            Get-RestoreContent -Session $a -Path /mbr-disk/part/1/which.txt | Should -Be 'prim partition'
            Get-RestoreContent -Session $b -Path /qcow-disk/raw/docs/readme.txt | Should -Be 'raw disk readme'
            $ta = Get-Token $a
            $tb = Get-Token $b
            $ta | Should -Not -Be $tb
            $asB = ConvertTo-SecureString $tb -AsPlainText -Force
            { Connect-RestoreAgent -Uri $a.Endpoint -Token $asB } | Should -Throw -ErrorId 'AgentUnauthorized*'
            $asA = ConvertTo-SecureString $ta -AsPlainText -Force
            $again = Connect-RestoreAgent -Uri $a.Endpoint -Token $asA
            (Get-RestoreDisk -Session $again).Name | Should -Be 'mbr-disk'
            $again | Disconnect-RestoreAgent
        }
        finally { Stop-RestoreVM -Id $a.VmId, $b.VmId }
    }

    It 'boots instead, with a warning, when the snapshot cannot be resumed, and saves a new one next time' {
        $snap = Get-ChildItem -LiteralPath $env:RESTORETOOLS_VM_SNAPSHOTS -Directory
        $snap.Count | Should -Be 1
        [IO.File]::WriteAllBytes((Join-Path $snap.FullName 'state'), [byte[]](1..64))
        $vm = Start-RestoreVM -Image @{ 'raw-disk' = $Raw } -New -IdleTimeoutSeconds 300 -TimeoutSeconds 120 -WarningVariable warned -WarningAction SilentlyContinue
        try {
            "$warned" | Should -Match 'snapshot not used'
            (Get-RestoreVM | Where-Object Id -eq $vm.VmId).Boot | Should -Be 'cold'
            Get-RestoreContent -Session $vm -Path /raw-disk/raw/docs/readme.txt | Should -Be 'raw disk readme'
            Test-Path -LiteralPath $snap.FullName | Should -BeFalse
        }
        finally { Stop-RestoreVM -Id $vm.VmId }
        $next = Start-RestoreVM -Image @{ 'raw-disk' = $Raw } -New -IdleTimeoutSeconds 300 -TimeoutSeconds 120
        try { (Get-RestoreVM | Where-Object Id -eq $next.VmId).Boot | Should -Be 'snapshot' }
        finally { Stop-RestoreVM -Id $next.VmId }
        foreach ($k in $Images.Keys) { (Get-FileHash -LiteralPath $Images[$k] -Algorithm SHA256).Hash | Should -Be $Before[$k] }
    }
}

Describe 'Dirty journals in a restore VM' {
    BeforeAll {
        # Backups of running VMs are crash-consistent: a file may still be in the journal or log only.
        # xfs: after.txt is written and fsync'ed (data and log), then the filesystem is shut down before
        # its metadata is written in place, so it is in the log alone (a norecovery mount does not show it). ext4: the journal is committed
        # but not replayed (needs_recovery stays set).
        $script:Mnt = Join-Path $Work 'dirty-mnt'
        $null = New-Item -ItemType Directory -Path $Mnt -Force
        $script:DirtyXfs = Join-Path $Work 'dirty-xfs.img'
        Invoke-Tool truncate '-s', '300M', $DirtyXfs
        Invoke-Tool mkfs.xfs '-q', '-f', $DirtyXfs
        Invoke-Tool bash '-c', "mount -o loop '$DirtyXfs' '$Mnt' && echo before > '$Mnt/before.txt' && umount '$Mnt' && mount -o loop '$DirtyXfs' '$Mnt' && echo after > '$Mnt/after.txt' && xfs_io -c fsync '$Mnt/after.txt' && xfs_io -x -c 'shutdown' '$Mnt'; umount '$Mnt'"
        $null = New-Item -ItemType Directory -Path "$Work/dirty-tree" -Force
        Set-Content -LiteralPath "$Work/dirty-tree/before.txt" -Value 'before'
        $script:DirtyExt = Join-Path $Work 'dirty-ext4.img'
        Invoke-Tool truncate '-s', '32M', $DirtyExt
        Invoke-Tool mkfs.ext4 '-q', '-F', '-d', "$Work/dirty-tree", $DirtyExt
        Invoke-Tool bash '-c', "mount -o loop '$DirtyExt' '$Mnt' && echo after > '$Mnt/after.txt' && sync -f '$Mnt/after.txt' && xfs_io -x -c 'shutdown' '$Mnt'; umount '$Mnt'"
        (& dumpe2fs -h $DirtyExt 2>$null) -join "`n" | Should -Match 'needs_recovery'
        $script:DirtySha = @{ xfs = (Get-FileHash -LiteralPath $DirtyXfs -Algorithm SHA256).Hash; ext = (Get-FileHash -LiteralPath $DirtyExt -Algorithm SHA256).Hash }
    }

    It 'replays them in a throw-away overlay: files written just before the backup appear, the images stay as they were' {
        $vm = Start-RestoreVM -Image @{ 'dirty-xfs' = $DirtyXfs; 'dirty-ext4' = $DirtyExt } -New -IdleTimeoutSeconds 300 -TimeoutSeconds 120
        try {
            Get-RestoreContent -Session $vm -Path /dirty-xfs/raw/after.txt | Should -Be 'after'
            Get-RestoreContent -Session $vm -Path /dirty-ext4/raw/after.txt | Should -Be 'after'
            foreach ($d in 'dirty-xfs', 'dirty-ext4') {
                $bucket = Get-RestoreBucket -Session $vm -Disk $d -WarningVariable warned -WarningAction SilentlyContinue
                $bucket.JournalReplayed | Should -BeTrue
                $warned | Should -BeNullOrEmpty
            }
        }
        finally { Stop-RestoreVM -Id $vm.VmId }
        (Get-FileHash -LiteralPath $DirtyXfs -Algorithm SHA256).Hash | Should -Be $DirtySha.xfs
        (Get-FileHash -LiteralPath $DirtyExt -Algorithm SHA256).Hash | Should -Be $DirtySha.ext
    }

    It 'with -NoRecovery reads the images as they are, and says the ext4 journal was not replayed' {
        $vm = Start-RestoreVM -Image @{ 'dirty-xfs' = $DirtyXfs; 'dirty-ext4' = $DirtyExt } -New -NoRecovery -IdleTimeoutSeconds 300 -TimeoutSeconds 120
        try {
            (Get-RestoreChildItem -Session $vm -Path /dirty-xfs/raw).Name | Should -Not -Contain 'after.txt'
            $null = Mount-RestoreBucket -Session $vm -Path /dirty-ext4/raw
            $bucket = Get-RestoreBucket -Session $vm -Disk dirty-ext4 -WarningVariable warned -WarningAction SilentlyContinue
            $bucket.JournalReplayed | Should -BeFalse
            ($warned -join "`n") | Should -Match 'journal holds changes not yet written in place'
        }
        finally { Stop-RestoreVM -Id $vm.VmId }
        (Get-FileHash -LiteralPath $DirtyXfs -Algorithm SHA256).Hash | Should -Be $DirtySha.xfs
        (Get-FileHash -LiteralPath $DirtyExt -Algorithm SHA256).Hash | Should -Be $DirtySha.ext
    }
}

Describe 'Exact restores through a restore VM' {
    BeforeAll {
        # A tree with names that are not UTF-8, a newline in a name, owners, a hard link, a symlink
        # with its own mtime and an extended attribute, filled into ext4 by mke2fs -d.
        $script:Stage = Join-Path $Work 'exact-stage'
        $null = New-Item -ItemType Directory -Path $Stage -Force
        $make = @'
import os, sys
os.chdir(sys.argv[1]); os.mkdir(b"t"); os.chdir(b"t")
for n in [b"bad-\xff.txt", b"bad-\xc3(.txt", b"new\nline.txt", b"plain.txt"]:
    open(n, "wb").write(b"content of " + n)
os.mkdir(b"dir-\xff"); open(b"dir-\xff/in\xe9.txt", "wb").write(b"inner")
os.link(b"plain.txt", b"plain-hardlink.txt")
os.symlink(b"plain.txt", b"link-to-plain")
os.chown(b"plain.txt", 1000, 1000); os.chown(b"dir-\xff", 1001, 1002); os.chmod(b"bad-\xff.txt", 0o640)
os.setxattr(b"plain.txt", "user.note", b"kept")
os.utime(b"link-to-plain", (1600000000, 1600000000), follow_symlinks=False)
os.utime(b"bad-\xff.txt", (1500000000, 1500000000))
'@
        Set-Content -LiteralPath "$Work/make-exact.py" -Value $make
        Invoke-Tool python3 "$Work/make-exact.py", $Stage
        # A manifest of a tree as bytes: name (hex), type, mode, owner, mtime, size, sha256, link target, hard-link group, user.* attributes.
        $manifest = @'
import os, sys, hashlib, stat
root = sys.argv[1].encode(); groups = {}; out = []
for d, dirs, files in os.walk(root):
    for n in sorted(dirs + files):
        p = os.path.join(d, n); st = os.lstat(p); rel = os.path.relpath(p, root)
        kind = "l" if stat.S_ISLNK(st.st_mode) else "d" if stat.S_ISDIR(st.st_mode) else "f"
        extra = os.readlink(p).hex() if kind == "l" else hashlib.sha256(open(p, "rb").read()).hexdigest() if kind == "f" else ""
        group = groups.setdefault((st.st_ino), rel.hex()) if kind == "f" and st.st_nlink > 1 else ""
        xattrs = ",".join(f"{k}={os.getxattr(p, k, follow_symlinks=False).hex()}" for k in sorted(os.listxattr(p, follow_symlinks=False)) if k.startswith("user.")) if kind != "l" else ""
        mtime = int(st.st_mtime) if kind != "d" else ""
        out.append(f"{rel.hex()} {kind} {oct(st.st_mode & 0o7777)} {st.st_uid}:{st.st_gid} {mtime} {st.st_size if kind == 'f' else ''} {extra} {group} {xattrs}")
print("\n".join(out))
'@
        Set-Content -LiteralPath "$Work/manifest.py" -Value $manifest
        function script:Get-Manifest([string] $Dir) { (& python3 "$Work/manifest.py" $Dir) -join "`n" }
        $script:Exact = Join-Path $Work 'exact.img'
        Invoke-Tool truncate '-s', '16M', $Exact
        Invoke-Tool mkfs.ext4 '-q', '-F', '-d', $Stage, $Exact
        # What the image holds, read through a read-only mount here (this host's kernel has ext4).
        $ro = New-Item -ItemType Directory -Path (Join-Path $Work 'exact-ro') -Force
        Invoke-Tool mount '-o', 'ro,loop', $Exact, $ro
        try { $script:Expected = Get-Manifest "$ro/t" } finally { Invoke-Tool umount $ro }
        $Expected | Should -Match ' 1000:1000 '
        $Expected | Should -Match 'user\.note='
        $script:ExactSha = (Get-FileHash -LiteralPath $Exact -Algorithm SHA256).Hash
    }

    It 'lists, copies and tars every name, owner, mode, link, time and attribute exactly' {
        $vm = Start-RestoreVM -Image @{ 'exact-disk' = $Exact } -New -IdleTimeoutSeconds 300 -TimeoutSeconds 120
        try {
            $items = Get-RestoreChildItem -Session $vm -Path /exact-disk/raw/t
            $items.Name | Should -Contain 'bad-\xFF.txt'
            ($items | Where-Object Name -eq 'dir-\xFF').RawName | Should -Be ([byte[]](0x64, 0x69, 0x72, 0x2D, 0xFF))
            Get-RestoreContent -Session $vm -Path '/exact-disk/raw/t/dir-\xFF/in\xE9.txt' | Should -Be 'inner'

            $copy = New-Item -ItemType Directory -Path (Join-Path $Work 'exact-copy') -Force
            Copy-RestoreItem -Session $vm -Path /exact-disk/raw/t -Destination $copy -Recurse -ExtendedAttribute
            Get-Manifest "$copy/t" | Should -Be $Expected

            $tar = Join-Path $Work 'exact.tar'
            Export-RestoreItem -Session $vm -Path /exact-disk/raw/t -Destination $tar -ExtendedAttribute
            $x = New-Item -ItemType Directory -Path (Join-Path $Work 'exact-untar') -Force
            Invoke-Tool tar '--xattrs', "--xattrs-include=user.*", '-xf', $tar, '-C', $x
            Get-Manifest "$x/t" | Should -Be $Expected
        }
        finally { Stop-RestoreVM -Id $vm.VmId }
        (Get-FileHash -LiteralPath $Exact -Algorithm SHA256).Hash | Should -Be $ExactSha
    }
}
