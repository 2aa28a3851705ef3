#Requires -Version 7.4
# bench/drive.ps1 - issue 14's listing figure (run it with bench/drive.sh): the 100,000-entry folder
# wide/ of the bench image, listed
#   - by Get-RestoreChildItem (sorted by name, as it writes them),
#   - through the Restore: drive with Get-ChildItem (the provider; PowerShell sorts nothing),
#   - by Get-ChildItem on the engine's own read-only mount point (the FileSystem provider: the reference),
# each piped to Measure-Object, so every item is made and passed on; median of -Repeat after one
# unmeasured pass. Also Get-RestoreChildItem -Name and Get-ChildItem -Name through the drive.
param(
    [Parameter(Mandatory)] [string] $Image,
    [int] $Repeat = 3,
    [string] $Out
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $PSScriptRoot '../out/RestoreTools/RestoreTools.psd1') -Force

function Median([double[]] $v) { $s = $v | Sort-Object; $s[[int][math]::Floor(($s.Count - 1) / 2)] }
$lines = [Collections.Generic.List[string]]::new()
function Say([string] $s) { $lines.Add($s); Write-Host $s }
function Row([string] $name, [scriptblock] $b, [int] $expect) {
    $n = (& $b | Measure-Object).Count
    if ($n -ne $expect) { throw "$name listed $n entries, not $expect" }
    $t = foreach ($i in 1..$Repeat) { (Measure-Command { & $b | Measure-Object }).TotalSeconds }
    Median $t
}

$disk = "benchdrive$PID"
Say "bench/drive: $(Get-Date -Format 'yyyy-MM-dd HH:mm') $(hostname), $Image, median of $Repeat, PowerShell $($PSVersionTable.PSVersion)"
Mount-RestoreImage -LiteralPath $Image -Name $disk | Out-Null
try {
    $mnt = (Resolve-RestorePath -Path "/$disk/raw/wide").LocalPath
    $count = @(Get-ChildItem -LiteralPath $mnt -Force -Name).Count
    Say "folder wide/: $count entries; reference is Get-ChildItem on the engine's mount $mnt"
    $r = [ordered]@{}
    $r['Get-ChildItem <mount> (FileSystem provider)'] = Row fs { Get-ChildItem -LiteralPath $mnt -Force } $count
    $r['Get-RestoreChildItem /disk/raw/wide'] = Row cmdlet { Get-RestoreChildItem -Path "/$disk/raw/wide" } $count
    $r['Get-ChildItem Restore:\disk\raw\wide (drive)'] = Row drive { Get-ChildItem -LiteralPath "Restore:\$disk\raw\wide" -Force } $count
    $r['Get-ChildItem -Name <mount>'] = Row fsname { Get-ChildItem -LiteralPath $mnt -Force -Name } $count
    $r['Get-RestoreChildItem -Name'] = Row cmdletname { Get-RestoreChildItem -Path "/$disk/raw/wide" -Name } $count
    $r['Get-ChildItem -Name Restore:\... (drive)'] = Row drivename { Get-ChildItem -LiteralPath "Restore:\$disk\raw\wide" -Force -Name } $count
    $ref = $r['Get-ChildItem <mount> (FileSystem provider)']
    $refName = $r['Get-ChildItem -Name <mount>']
    foreach ($k in $r.Keys) {
        $base = if ($k -like '*-Name*') { $refName } else { $ref }
        Say ("{0,-48} {1,7:0.00} s  {2,6:0.00}x the FileSystem provider  {3,8:N0} entries/s" -f $k, $r[$k], ($r[$k] / $base), ($count / $r[$k]))
    }
    Say ("drive / Get-RestoreChildItem: {0:0.00}x" -f ($r['Get-ChildItem Restore:\disk\raw\wide (drive)'] / $r['Get-RestoreChildItem /disk/raw/wide']))
}
finally { Dismount-RestoreImage -Name $disk -Confirm:$false }
if ($Out) { $lines | Set-Content -LiteralPath $Out }
