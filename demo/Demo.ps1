#Requires -Version 7.4
<#
.SYNOPSIS
    Walks through a single-file restore from a disk image with the RestoreTools module.
.DESCRIPTION
    Imports the module, attaches the image read-only as the disk sample.img, lists disks and
    buckets, resolves /sample.img/part/1/etc/hostname, prints the file, and detaches the image.
    Needs root (loop devices and mounts).
.PARAMETER ModulePath
    Path of RestoreTools.psd1 (for example out/RestoreTools/RestoreTools.psd1).
.PARAMETER Image
    The sample image (the build's Sample task makes it).
.EXAMPLE
    ./demo/Demo.ps1 -ModulePath out/RestoreTools/RestoreTools.psd1 -Image out/sample.img
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $Image
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

# Import-Module needs ./ or an absolute path for a relative manifest path.
Import-Module (Resolve-Path -LiteralPath $ModulePath).ProviderPath

Write-Host "== Mount-RestoreImage -Path $Image -Name sample.img" -ForegroundColor Cyan
Mount-RestoreImage -Path $Image -Name sample.img
try {
    Write-Host '== Get-RestoreDisk' -ForegroundColor Cyan
    Get-RestoreDisk | Format-Table | Out-Host

    Write-Host '== Get-RestoreBucket' -ForegroundColor Cyan
    Get-RestoreBucket | Format-Table | Out-Host

    Write-Host '== Resolve-RestorePath /sample.img/part' -ForegroundColor Cyan
    Resolve-RestorePath /sample.img/part | Format-Table | Out-Host

    Write-Host '== Resolve-RestorePath /sample.img/part/1/etc/hostname' -ForegroundColor Cyan
    $resolved = Resolve-RestorePath -Path /sample.img/part/1/etc/hostname
    $resolved | Format-List | Out-Host

    Write-Host "== Get-Content $($resolved.LocalPath)" -ForegroundColor Cyan
    Get-Content -LiteralPath $resolved.LocalPath | Out-Host
}
finally {
    Write-Host '== Dismount-RestoreImage -Name sample.img' -ForegroundColor Cyan
    Dismount-RestoreImage -Name sample.img
}
