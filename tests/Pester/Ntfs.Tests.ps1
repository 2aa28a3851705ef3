#Requires -Version 7.4
# NTFS through a real restore VM and on this host: an image made by mkntfs and filled through ntfs-3g
# (tests/Ntfs/make-ntfs-image.sh: long and Unicode names, an LZNT1-compressed folder, a sparse file,
# alternate data streams, a hard link, junctions and symlinks written as Windows writes them). Every
# file must come back byte-exact (sha256 of the bytes written), reparse points as links that never
# lead out of the volume, and the image must be unchanged.

BeforeAll {
    $ModulePath = if ($env:RESTORETOOLS_MODULE) { $env:RESTORETOOLS_MODULE } else { Join-Path $PSScriptRoot '../../out/RestoreTools/RestoreTools.psd1' }
    Import-Module (Resolve-Path -LiteralPath $ModulePath).ProviderPath -Force -ErrorAction Stop
    $env:RESTORETOOLS_VM_STATE = Join-Path ([IO.Path]::GetTempPath()) "restoretools-ntfs-vms-$PID"
    $env:RESTORETOOLS_VM_SNAPSHOTS = Join-Path ([IO.Path]::GetTempPath()) "restoretools-ntfs-snapshots-$PID"

    $script:Work = Join-Path ([IO.Path]::GetTempPath()) "restoretools-ntfs-$PID"
    $null = New-Item -ItemType Directory -Path $Work -Force
    $out = & (Join-Path $PSScriptRoot '../Ntfs/make-ntfs-image.sh') $Work 2>&1
    if ($LASTEXITCODE -ne 0) { throw "make-ntfs-image.sh failed: $out" }
    $script:Image = Join-Path $Work 'ntfs.img'
    $script:ImageSha = (Get-FileHash -LiteralPath $Image -Algorithm SHA256).Hash
    $script:Expected = [ordered]@{}
    foreach ($line in [IO.File]::ReadAllLines((Join-Path $Work 'expected.sha256'), [Text.Encoding]::UTF8)) {
        $Expected[$line.Substring(66)] = $line.Substring(0, 64).ToUpperInvariant()
    }
    $script:LongName = ('L' * 236) + '.txt'
    $script:UnicodeName = 'Ünïcödé – 日本語 файл 🎉.txt'

    function Get-Errors([scriptblock] $Script) {
        $ErrorActionPreference = 'Continue'
        , @(& $Script 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
    }

    # The same checks through a restore VM and on this host ($Session $null = this host's engine).
    function Test-NtfsVolume([string] $Root, $Session, [string] $Dest) {
        $s = if ($Session) { @{ Session = $Session } } else { @{} }
        (Get-RestoreBucket @s | Where-Object Path -eq $Root).FileSystem | Should -Be 'ntfs'

        # Dest does not exist yet: the volume's root is copied as Dest (as cp -r does).
        $copied = Join-Path $Dest 'copy'
        $null = New-Item -ItemType Directory -Path $Dest -Force
        Copy-RestoreItem @s -Path $Root -Destination $copied -Recurse
        foreach ($rel in $Expected.Keys) {
            (Get-FileHash -LiteralPath (Join-Path $copied $rel) -Algorithm SHA256).Hash | Should -Be $Expected[$rel] -Because $rel
        }
        (Get-Item -LiteralPath (Join-Path $copied 'sparse.bin')).Length | Should -Be (64MB)

        $items = @{}
        Get-RestoreChildItem @s -Path $Root | ForEach-Object { $items[$_.Name] = $_ }
        $items.Keys | Should -Contain $LongName
        $items.Keys | Should -Contain $UnicodeName
        $items['Compressed'].Type | Should -Be 'Directory'
        foreach ($link in 'Junction', 'System32', 'rel-link.txt', 'abs-link.txt', 'escape-link.txt') {
            $items[$link].Type | Should -Be 'Symlink' -Because "$link is a reparse point"
        }
        $items['rel-link.txt'].LinkTarget | Should -Be 'target/inner/t.txt'
        # ntfs-3g writes a junction into the volume as its mount point + path: shown as the path in the volume
        $items['Junction'].LinkTarget | Should -Be '/target'
        # Links are followed inside the volume only: the junction and the relative link lead into it, the
        # others (C:\..., ..\..\..\etc\passwd, a junction to C:\Windows) never reach the host.
        (Resolve-RestorePath @s -Path "$Root/rel-link.txt").RelativePath | Should -Be '/target/inner/t.txt'
        Get-RestoreContent @s -Path "$Root/Junction/inner/t.txt" | Should -Be 'in the target folder'
        foreach ($escape in 'escape-link.txt', 'abs-link.txt', 'System32/drivers/etc/hosts') {
            $e = Get-Errors { Resolve-RestorePath @s -Path "$Root/$escape" }
            $e.Count | Should -Be 1 -Because "$escape must not resolve"
            "$($e[0])" | Should -Match 'not found'
        }
        Get-RestoreContent @s -Path "$Root/Documents/hello-hardlink.txt" | Should -Be 'hello from NTFS'

        # Alternate data streams, named (and read) as user.NAME extended attributes of the file.
        $tar = Join-Path $Dest 'ads.tar'
        Export-RestoreItem @s -Path "$Root/Documents" -Destination $tar -ExtendedAttribute
        $text = [Text.Encoding]::Latin1.GetString([IO.File]::ReadAllBytes($tar))
        $text | Should -Match 'SCHILY\.xattr\.user\.Zone\.Identifier=\[ZoneTransfer\]'
    }
}

AfterAll {
    Get-RestoreVM -ErrorAction SilentlyContinue | ForEach-Object { Stop-RestoreVM -Id $_.Id -ErrorAction SilentlyContinue }
    Dismount-RestoreImage -Name win-host -ErrorAction SilentlyContinue
    Remove-Item -LiteralPath $Work, $env:RESTORETOOLS_VM_STATE, $env:RESTORETOOLS_VM_SNAPSHOTS -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'NTFS in a restore VM' {
    BeforeAll {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $script:S = Start-RestoreVM -Image @{ 'win-disk' = $Image } -TimeoutSeconds 120 -IdleTimeoutSeconds 300
        Write-Host "    restore VM answered after $($sw.Elapsed.TotalSeconds.ToString('0.0')) s"
    }

    It 'reads every file byte-exact, lists long and Unicode names, reparse points as links and the streams' {
        Test-NtfsVolume -Root '/win-disk/part/1' -Session $S -Dest (Join-Path $Work 'vm')
    }

    It 'leaves the image unchanged' {
        Stop-RestoreVM -Id $S.VmId
        (Get-FileHash -LiteralPath $Image -Algorithm SHA256).Hash | Should -Be $ImageSha
    }
}

Describe 'NTFS on this host (ntfs-3g)' {
    It 'reads the same through ntfs-3g, and ends it on dismount' {
        $null = Mount-RestoreImage -LiteralPath $Image -Name win-host -ErrorAction Stop
        try { Test-NtfsVolume -Root '/win-host/part/1' -Session $null -Dest (Join-Path $Work 'host') }
        finally { Dismount-RestoreImage -Name win-host }
        (& pgrep -f "[n]tfs-3g -o .*win-host") | Should -BeNullOrEmpty
        (Get-FileHash -LiteralPath $Image -Algorithm SHA256).Hash | Should -Be $ImageSha
    }
}
