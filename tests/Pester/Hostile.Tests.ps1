#Requires -Version 7.4
# The hostile corpus (tests/Hostile/make-hostile-image.sh) copied through a real restore VM with
# Copy-RestoreItem -Session: the guest parses the image, the host writes the copy. Nothing may
# appear or change outside the destination (a sentinel folder the image's links point at), no
# file may keep setuid/setgid without its original owner, no device node, FIFO or socket may be
# made, no hole written out, the tree past PATH_MAX must arrive whole, and the image must be
# byte-identical afterwards. Skipped only when the restore VM is not built (out/vm).

BeforeDiscovery {
    $vmDir = if ($env:RESTORETOOLS_VM_DIR) { $env:RESTORETOOLS_VM_DIR } else { Join-Path $PSScriptRoot '../../out/vm' }
    $script:HasVm = (Test-Path -LiteralPath (Join-Path $vmDir 'vmlinux')) -and (Test-Path -LiteralPath (Join-Path $vmDir 'initrd.img'))
}

Describe 'The hostile corpus through a restore VM' -Skip:(-not $HasVm) {
    BeforeAll {
        $ModulePath = if ($env:RESTORETOOLS_MODULE) { $env:RESTORETOOLS_MODULE } else { Join-Path $PSScriptRoot '../../out/RestoreTools/RestoreTools.psd1' }
        $script:ModuleFile = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
        Import-Module $ModuleFile -Force -ErrorAction Stop
        $env:RESTORETOOLS_VM_STATE = Join-Path ([IO.Path]::GetTempPath()) "restoretools-hostile-vms-$PID"
        $env:RESTORETOOLS_VM_SNAPSHOTS = Join-Path ([IO.Path]::GetTempPath()) "restoretools-hostile-snapshots-$PID"

        function Invoke-Bash([string] $Script) {
            $out = & bash -euo pipefail -c $Script 2>&1
            if ($LASTEXITCODE -ne 0) { throw "bash failed ($LASTEXITCODE): $Script`n$out" }
            ($out | Out-String)
        }

        $script:Work = Join-Path ([IO.Path]::GetTempPath()) "restoretools-hostile-$PID"
        $script:Outside = Join-Path ([IO.Path]::GetTempPath()) "rt-hostile-vm-out-$PID"
        $null = New-Item -ItemType Directory -Path $Work, "$Outside/dir" -Force
        $script:SentinelText = "vm sentinel $([guid]::NewGuid().ToString('N'))"
        Set-Content -LiteralPath "$Outside/sentinel.txt" -Value $SentinelText -NoNewline
        Set-Content -LiteralPath "$Outside/dir/keep.txt" -Value 'keep'
        $script:Image = Join-Path $Work 'hostile.img'
        Invoke-Bash "'$PSScriptRoot/../Hostile/make-hostile-image.sh' '$Image' '$Outside' >/dev/null"
        $script:Cases = @(Get-Content -LiteralPath "$Image.manifest.tsv" | Where-Object { $_ -and -not $_.StartsWith('#') } | ForEach-Object {
                $f = $_.Split("`t"); [pscustomobject]@{ Part = $f[0]; Path = $f[1]; Kind = $f[2]; MustNot = $f[3]; Detail = $f[4] } })
        $script:ImageHash = (Get-FileHash -LiteralPath $Image -Algorithm SHA256).Hash

        # Destinations on a tmpfs of our own: a copy that writes out a 1 TB hole fills it, not the host.
        $script:Dest = Join-Path $Work 'dest'
        $null = New-Item -ItemType Directory -Path $Dest -Force
        Invoke-Bash "mount -t tmpfs -o size=1G rt-hostile-vm '$Dest'"

        function Get-Snapshot([string] $Dir) {
            Invoke-Bash "cd '$Dir' && find . -printf '%p %y %m %U:%G %s %n %T@ %l\n' | sort && find . -type f -exec sha256sum {} + | sort"
        }
        $script:OutsideBefore = Get-Snapshot $Outside

        # Each copy runs in a thread job with a time limit: through TCG a written-out 1 TB hole would never end.
        function Copy-Hostile([string] $Path, [string] $To, [int] $Seconds = 120) {
            $null = New-Item -ItemType Directory -Path $To -Force
            $job = Start-ThreadJob -ArgumentList $ModuleFile, $S, $Path, $To -ScriptBlock {
                param($module, $session, $path, $to)
                Import-Module $module
                $ErrorActionPreference = 'Continue'
                Copy-RestoreItem -Session $session -Path $path -Destination $to -Recurse 2>&1 |
                    Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | ForEach-Object { "$($_.FullyQualifiedErrorId): $_" }
            }
            if (-not (Wait-Job $job -Timeout $Seconds)) {
                # Stopping the VM ends the stream (a written-out hole goes on for hours under TCG).
                Stop-RestoreVM -Id $S.VmId -ErrorAction SilentlyContinue
                Stop-Job $job
                throw "Copy-RestoreItem $Path did not finish within $Seconds s (the restore VM was stopped)"
            }
            $errors = @(Receive-Job $job -ErrorAction SilentlyContinue -ErrorVariable jobErrors) + @($jobErrors | ForEach-Object { "$_" })
            Remove-Job $job -Force
            , $errors
        }

        $script:S = Start-RestoreVM -Image @{ 'hostile' = $Image } -TimeoutSeconds 120 -IdleTimeoutSeconds 600
    }

    AfterAll {
        Get-RestoreVM -ErrorAction SilentlyContinue | ForEach-Object { Stop-RestoreVM -Id $_.Id -ErrorAction SilentlyContinue }
        if ($Dest) { & umount $Dest 2>$null }
        Remove-Item -LiteralPath $Work, $Outside, $env:RESTORETOOLS_VM_STATE, $env:RESTORETOOLS_VM_SNAPSHOTS -Recurse -Force -ErrorAction SilentlyContinue
    }

    It 'copies links as links and writes nothing through them' {
        $errors = Copy-Hostile /hostile/part/1/links "$Dest/links"
        # (names and targets with escapes in the manifest are left to the xunit tests)
        foreach ($c in $Cases | Where-Object { $_.Kind -like 'symlink*' -and ($_.Path + $_.Detail) -notmatch '\\' }) {
            (Get-Item -LiteralPath "$Dest/links/$($c.Path)" -Force).LinkTarget | Should -Be $c.Detail -Because "$($c.Path) (copy errors: $($errors -join '; '))"
        }
        Get-Snapshot $Outside | Should -Be $OutsideBefore
    }

    It 'never writes through a symlink already where the copy''s folder goes' {
        $d = "$Dest/dest-with-link"
        $null = New-Item -ItemType Directory -Path $d -Force
        $null = New-Item -ItemType SymbolicLink -Path "$d/etc" -Target $Outside
        $errors = Copy-Hostile /hostile/part/1/twostage/b/etc $d
        Test-Path -LiteralPath "$Outside/hostname" | Should -BeFalse -Because 'the copy must not write through D/etc'
        Get-Snapshot $Outside | Should -Be $OutsideBefore
        $errors.Count | Should -BeGreaterThan 0 -Because 'the blocked folder is reported'
    }

    It 'never writes through the link an earlier copy made' {
        $d = "$Dest/twostage"
        $null = Copy-Hostile /hostile/part/1/twostage/a $d
        (Get-Item -LiteralPath "$d/a/etc" -Force).LinkTarget | Should -Be $Outside
        $null = Copy-Hostile /hostile/part/1/twostage/b/etc "$d/a"
        Test-Path -LiteralPath "$Outside/hostname" | Should -BeFalse
        Get-Snapshot $Outside | Should -Be $OutsideBefore
    }

    It 'gains no privilege: no setuid or setgid without the original owner, no device node, FIFO or socket' {
        $d = "$Dest/setid"
        $null = Copy-Hostile /hostile/part/1/setid $d
        $null = Copy-Hostile /hostile/part/1/devices $d
        Invoke-Bash "cd '$d' && find . \( -type b -o -type c -o -type p -o -type s \) -printf '%p %y\n'" | Should -BeNullOrEmpty
        $owners = @{}
        foreach ($c in $Cases | Where-Object Detail -match '^[0-7]{4} \d+:\d+$') { $owners[$c.Path] = $c.Detail.Split(' ')[1].Split(':') }
        $bad = foreach ($line in (Invoke-Bash "cd '$d' && find . -perm /7000 -printf '%P\t%U\t%G\t%m\n'").Split("`n", [StringSplitOptions]::RemoveEmptyEntries)) {
            $f = $line.Split("`t"); $mode = [Convert]::ToInt32($f[3], 8); $o = $owners[$f[0]]
            if (-not $o) { "$($f[0]) $($f[3]): no such bits in the image"; continue }
            if (($mode -band 0x800) -and $f[1] -ne $o[0]) { "$($f[0]): setuid $($f[3]) owned by $($f[1]), originally $($o[0])" }
            if (($mode -band 0x400) -and $f[2] -ne $o[1]) { "$($f[0]): setgid $($f[3]) group $($f[2]), originally $($o[1])" }
            if (($mode -band 0x200) -and $f[1] -ne $o[0]) { "$($f[0]): sticky $($f[3]) owned by $($f[1]), originally $($o[0])" }
        }
        $bad | Should -BeNullOrEmpty
        Invoke-Bash "cd '$d' && find . -type f -execdir getcap {} + 2>/dev/null || true" | Should -BeNullOrEmpty
    }

    It 'copies the tree deeper than PATH_MAX whole' {
        $d = "$Dest/deep"
        $errors = Copy-Hostile /hostile/part/1/deep $d
        $errors | Should -BeNullOrEmpty
        (Invoke-Bash "cd '$d/deep' && find . -name leaf.txt -printf '%d\n'").Trim() | Should -Be '301'
        Invoke-Bash "cd '$d/deep' && for i in `$(seq 300); do cd d0123456789abcdefghi; done && cat leaf.txt" | Should -Be "bottom of the deep tree`n"
    }

    It 'copies hostile names and many entries, and reads nothing from the host through hostile dirents' {
        $d = "$Dest/names"
        $errors = @(foreach ($folder in 'names', 'many', 'perms', 'hardlinks') { Copy-Hostile "/hostile/part/1/$folder" $d | ForEach-Object { $_ } })
        @(Get-ChildItem -LiteralPath "$d/many" -Force).Count | Should -Be 3000
        (Invoke-Bash "cd '$d/names' && find . -mindepth 1 -maxdepth 1 -printf x | wc -c").Trim() | Should -Be "$(@($Cases | Where-Object Kind -eq 'name').Count)" -Because "every name arrives (copy errors: $($errors -join '; '))"
        $null = Copy-Hostile /hostile/part/2 "$Dest/dirents"
        Invoke-Bash "cd '$Dest' && find . -type f -size -1M -execdir grep -lF -- '$SentinelText' {} + 2>/dev/null || true" | Should -BeNullOrEmpty
        Get-Snapshot $Outside | Should -Be $OutsideBefore
    }

    # Last of the copies: today a hole is written out, and the VM is stopped when the copy overruns.
    It 'keeps sparse files sparse (a 1 TB file, one with data in the middle)' {
        $d = "$Dest/sparse"
        $null = Copy-Hostile /hostile/part/1/sparse $d 90
        foreach ($c in $Cases | Where-Object Kind -eq 'sparse') {
            $size, $data = $c.Detail.Split(' ') | ForEach-Object { [long]$_ }
            $st = (Invoke-Bash "stat -c '%s %b %B' '$d/$($c.Path)'").Trim().Split(' ') | ForEach-Object { [long]$_ }
            $st[0] | Should -Be $size -Because $c.Path
            ($st[1] * $st[2]) | Should -BeLessOrEqual ($data + 1MB) -Because "$($c.Path) must keep its holes"
        }
    }

    It 'leaves the image byte-identical and the outside folder untouched' {
        Stop-RestoreVM -Id $S.VmId -ErrorAction SilentlyContinue
        (Get-FileHash -LiteralPath $Image -Algorithm SHA256).Hash | Should -Be $ImageHash
        Get-Snapshot $Outside | Should -Be $OutsideBefore
        (Invoke-Bash "cd '$Dest' && du -s --block-size=1M . | cut -f1").Trim() | Should -BeLessThan 64
    }
}
