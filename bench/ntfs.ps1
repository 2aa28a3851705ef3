# bench/ntfs.ps1: the measuring half of bench/ntfs.sh (which makes the image and calls this).
param(
    [Parameter(Mandatory)] [string] $Module,
    [Parameter(Mandatory)] [string] $Image,
    [Parameter(Mandatory)] [string] $Work,
    [int] $Resumes = 3,
    [int] $Reads = 2,
    # NAME=DIR;NAME=DIR...
    [Parameter(Mandatory)] [string] $Vm
)
$ErrorActionPreference = 'Stop'
Import-Module $Module -Force
$env:RESTORETOOLS_VM_STATE = Join-Path $Work 'vms'

function Seconds([scriptblock] $Script) {
    $sw = [Diagnostics.Stopwatch]::StartNew(); $null = & $Script; $sw.Elapsed.TotalSeconds
}
function Median([double[]] $x) { $s = $x | Sort-Object; $s[[int][Math]::Floor(($s.Count - 1) / 2)] }
function Min([double[]] $x) { ($x | Measure-Object -Minimum).Minimum }

$rows = @()
$list = $Vm.Split(';', [StringSplitOptions]::RemoveEmptyEntries)
for ($i = 0; $i -lt $list.Count; $i++) {
    $name, $dir = $list[$i].Split('=', 2)
    $kernel = Join-Path $dir 'vmlinux'; $initrd = Join-Path $dir 'initrd.img'
    $release = (Get-Content -LiteralPath (Join-Path $dir 'kernel.release') -ErrorAction SilentlyContinue) ?? '?'
    $env:RESTORETOOLS_VM_SNAPSHOTS = Join-Path $Work "snapshots-$i"
    Remove-Item -LiteralPath $env:RESTORETOOLS_VM_SNAPSHOTS -Recurse -Force -ErrorAction SilentlyContinue
    $vmArgs = @{ KernelPath = $kernel; InitrdPath = $initrd; TimeoutSeconds = 180; IdleTimeoutSeconds = 600 }
    $r = [ordered]@{ Vm = $name; Kernel = $release; InitrdMB = [Math]::Round((Get-Item $initrd).Length / 1MB, 1) }
    Write-Host "bench: $name ($release)"

    # first start: boot, save the snapshot, resume it
    $S = $null
    $r.FirstStart = Seconds { $script:S = Start-RestoreVM @vmArgs -Image @{ bench = $Image } -New }
    Stop-RestoreVM -Id $S.VmId
    $r.Resume = Median (1..$Resumes | ForEach-Object {
        Seconds { $script:S = Start-RestoreVM @vmArgs -Image @{ bench = $Image } -New }
        Stop-RestoreVM -Id $S.VmId
    })
    $r.ColdBoot = Seconds { $script:S = Start-RestoreVM @vmArgs -Image @{ bench = $Image } -New -NoSnapshot }
    Stop-RestoreVM -Id $S.VmId

    $S = Start-RestoreVM @vmArgs -Image @{ bench = $Image } -New
    try {
        foreach ($fs in @(@{ Name = 'ntfs'; Part = 1 }, @{ Name = 'ext4'; Part = 2 })) {
            $b = "/bench/part/$($fs.Part)"
            $p = $fs.Name
            try { $r["$p.Mount"] = Seconds { Mount-RestoreBucket -Session $S -Path $b } }
            catch { Write-Host "bench: $p on $name does not mount: $($_.Exception.Message)"; $r["$p.Mount"] = $null; continue }
            # The first read after the mount is cold (what a restore meets); the best of the next --reads warm.
            $read = 0..$Reads | ForEach-Object {
                $dest = Join-Path $Work "read-$p"; Remove-Item $dest -Force -ErrorAction SilentlyContinue
                Seconds { Copy-RestoreItem -Session $S -Path "$b/big.bin" -Destination $dest }
            }
            $r["$p.Read100MB"] = $read[0]
            $r["$p.MBps"] = [Math]::Round(100 / $read[0], 1)
            $r["$p.Read100MBWarm"] = Min $read[1..$Reads]
            $tar = 0..$Reads | ForEach-Object {
                $dest = Join-Path $Work "small-$p.tar"; Remove-Item $dest -Force -ErrorAction SilentlyContinue
                Seconds { Export-RestoreItem -Session $S -Path "$b/small" -Destination $dest }
            }
            $r["$p.Tar10k"] = $tar[0]
            $r["$p.Tar10kWarm"] = Min $tar[1..$Reads]
            Remove-Item (Join-Path $Work "read-$p"), (Join-Path $Work "small-$p.tar") -Force -ErrorAction SilentlyContinue
        }
    }
    finally { Stop-RestoreVM -Id $S.VmId }
    $rows += [pscustomobject]$r
}

$load = (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' '
"bench/ntfs: $(Get-Date -AsUTC -Format 'yyyy-MM-dd HH:mm') UTC, load $load; seconds (MBps: MB/s of the cold read), through Start-RestoreVM; Warm = best of $Reads more"
$cols = 'Vm', 'Kernel', 'InitrdMB', 'FirstStart', 'Resume', 'ColdBoot'
foreach ($p in 'ntfs', 'ext4') { $cols += "$p.Mount", "$p.Read100MB", "$p.MBps", "$p.Read100MBWarm", "$p.Tar10k", "$p.Tar10kWarm" }
'| ' + ($cols -join ' | ') + ' |'
'|' + ('---|' * $cols.Count)
foreach ($row in $rows) {
    '| ' + (($cols | ForEach-Object { $v = $row.$_; if ($v -is [double]) { $v.ToString('0.00') } elseif ($null -eq $v) { 'n/a' } else { "$v" } }) -join ' | ') + ' |'
}
