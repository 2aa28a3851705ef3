@{
    RootModule           = 'RestoreTools.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5f0c2d7e-8a41-4b9e-9c63-2e7d1a4b6f90'
    Author               = 'RestoreTools'
    CompanyName          = 'RestoreTools'
    Copyright            = '(c) RestoreTools. All rights reserved.'
    Description          = 'Single-file restore from VM disk images: attach images read-only, list and mount their partitions, resolve /disk/type/component/path restore paths, list, read, copy and export files out of them.'
    CompatiblePSEditions = @('Core')
    PowerShellVersion    = '7.6'   # the module is built for .NET 10, which PowerShell 7.6 runs on
    FormatsToProcess     = @('RestoreTools.Format.ps1xml')
    TypesToProcess       = @('RestoreTools.Types.ps1xml')
    CmdletsToExport      = @(
        'Mount-RestoreImage'
        'Dismount-RestoreImage'
        'Get-RestoreDisk'
        'Get-RestoreBucket'
        'Mount-RestoreBucket'
        'Dismount-RestoreBucket'
        'Resolve-RestorePath'
        'Get-RestoreChildItem'
        'Get-RestoreContent'
        'Copy-RestoreItem'
        'Export-RestoreItem'
        'Connect-RestoreAgent'
        'Disconnect-RestoreAgent'
        'Get-RestoreSession'
        'Start-RestoreVM'
        'Get-RestoreVM'
        'Stop-RestoreVM'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Restore', 'Backup', 'DiskImage', 'Linux', 'LVM', 'NTFS', 'qemu')
            ReleaseNotes = 'LVM logical volumes of every common kind (linear, striped, raid1, mirror, thin, snapshot) through the restore VM; NTFS through ntfs-3g; f2fs, jfs, reiserfs, udf, nilfs2, minix, hfs and ufs in the restore VM; the Restore: drive; objects that carry their session.'
        }
    }
}
