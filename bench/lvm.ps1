#Requires -Version 7.4
# bench/lvm.ps1 - issue 12's LVM figures through a restore VM (run it with bench/lvm.sh):
#  - listing the buckets of the three LVM images (2 VGs, 11 LVs with a filesystem plus a thin
#    pool): the first listing maps, probes and unmaps every LV; the second is the cached one;
#  - reading the same 100 MB file (bench.bin) from a linear LV (lv-root), a striped one
#    (lv-striped) and a plain partition of the same image (part/1), median of -Repeat reads after
#    the bucket is mounted, against cat of the file on a host loop mount of the plain partition.
param(
    [Parameter(Mandatory)] [string] $Images,
    [int] $Repeat = 3,
    [string] $Out
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '../out/RestoreTools/RestoreTools.psd1') -Force
$env:RESTORETOOLS_VM_STATE = Join-Path ([IO.Path]::GetTempPath()) "restoretools-bench-lvm-vms-$PID"
$env:RESTORETOOLS_VM_SNAPSHOTS = Join-Path ([IO.Path]::GetTempPath()) "restoretools-bench-lvm-snapshots-$PID"
$work = Join-Path ([IO.Path]::GetTempPath()) "restoretools-bench-lvm-$PID"
$null = New-Item -ItemType Directory -Path $work -Force

function Median([double[]] $v) { $s = $v | Sort-Object; $s[[int][math]::Floor(($s.Count - 1) / 2)] }
function Seconds([scriptblock] $b) { $w = [Diagnostics.Stopwatch]::StartNew(); $null = & $b; $w.Stop(); $w.Elapsed.TotalSeconds }

$lines = [Collections.Generic.List[string]]::new()
function Say([string] $s) { $lines.Add($s); Write-Host $s }

$img = [ordered]@{ 'lvm-a' = "$Images/lvm-a.img"; 'lvm-b' = "$Images/lvm-b.img"; 'lvm-c' = "$Images/lvm-c.img" }
$size = (Get-Item "$Images/lvm-a.img").Length
Say "bench/lvm: $(Get-Date -Format 'yyyy-MM-dd HH:mm') $(hostname), images in $Images"
try {
    $boot = Seconds { $script:S = Start-RestoreVM -Image $img -New -TimeoutSeconds 180 -IdleTimeoutSeconds 600 }
    Say ("restore VM answered after {0:0.00} s" -f $boot)
    $first = Seconds { $script:B = Get-RestoreBucket -Session $S }
    $lvs = @($B | Where-Object Type -eq lvm)
    $again = Seconds { $null = Get-RestoreBucket -Session $S }
    $vgs = @($lvs | ForEach-Object { ($_.Component -split '/')[0] } | Sort-Object -Unique)
    Say ("bucket listing, 3 disks, {0} VGs, {1} lvm buckets ({2} readable): first {3:0.000} s (every LV mapped, probed, unmapped), cached {4:0.000} s" -f `
        $vgs.Count, $lvs.Count, @($lvs | Where-Object { -not $_.Error }).Count, $first, $again)

    $bench = (Get-RestoreChildItem -Session $S -Path /lvm-a/part/1 | Where-Object Name -eq bench.bin).Size
    $mb = $bench / 1MB
    $rows = [ordered]@{ 'plain partition (/lvm-a/part/1)' = '/lvm-a/part/1/bench.bin'; 'linear LV (vg-data/lv-root)' = '/lvm-a/lvm/vg-data/lv-root/bench.bin'; 'striped LV (vg-data/lv-striped)' = '/lvm-a/lvm/vg-data/lv-striped/bench.bin' }
    $results = [ordered]@{}
    foreach ($name in $rows.Keys) {
        $path = $rows[$name]
        $mount = Seconds { $null = Get-RestoreChildItem -Session $S -Path ($path -replace '/bench.bin$', '') }
        $t = foreach ($i in 1..$Repeat) {
            $dest = Join-Path $work "read-$i.bin"
            Remove-Item -LiteralPath $dest -ErrorAction SilentlyContinue
            Seconds { Copy-RestoreItem -Session $S -Path $path -Destination $dest }
        }
        $results[$name] = Median $t
        Say ("{0,-34} {1:0.0} MB in {2:0.000} s median of {3} ({4:0.0} MB/s); first listing with mount {5:0.000} s" -f $name, $mb, $results[$name], $Repeat, ($mb / $results[$name]), $mount)
    }
    $plain = $results['plain partition (/lvm-a/part/1)']
    foreach ($name in $results.Keys) { if ($name -notlike 'plain*') { Say ("  {0}: {1:0.00}x the plain partition" -f $name, ($results[$name] / $plain)) } }
    Stop-RestoreVM -Id $S.VmId

    # Host reference: the plain partition loop-mounted read-only here, the file read with cat.
    $start = [long](& bash -c "sfdisk -J '$($img['lvm-a'])' | python3 -c 'import json,sys; print(json.load(sys.stdin)[""partitiontable""][""partitions""][0][""start""])'") * 512
    $mnt = New-Item -ItemType Directory -Path (Join-Path $work mnt) -Force
    & mount -o "ro,loop,offset=$start,noload" -t ext4 $img['lvm-a'] $mnt.FullName
    try {
        $cat = foreach ($i in 1..$Repeat) {
            & bash -c 'echo 3 > /proc/sys/vm/drop_caches'
            Seconds { & bash -c "cat '$($mnt.FullName)/bench.bin' > /dev/null" }
        }
        $c = Median $cat
        Say ("host reference: cat of the plain partition's file on a loop mount {0:0.000} s ({1:0.0} MB/s); the VM's plain-partition read is {2:0.0}x that" -f $c, ($mb / $c), ($plain / $c))
    }
    finally { & umount $mnt.FullName }
}
finally {
    Get-RestoreVM -ErrorAction SilentlyContinue | ForEach-Object { Stop-RestoreVM -Id $_.Id -ErrorAction SilentlyContinue }
    Remove-Item -LiteralPath $work, $env:RESTORETOOLS_VM_STATE, $env:RESTORETOOLS_VM_SNAPSHOTS -Recurse -Force -ErrorAction SilentlyContinue
}
if ($Out) { $lines | Set-Content -LiteralPath $Out }
