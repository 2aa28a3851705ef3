#Requires -Version 7.4
# Pester 6 tests of browse and export: Get-RestoreChildItem, Get-RestoreContent, Copy-RestoreItem,
# Export-RestoreItem against a real ext4 image (needs root: loop devices, mount).

BeforeAll {
    $ModulePath = if ($env:RESTORETOOLS_MODULE) { $env:RESTORETOOLS_MODULE }
    else { Join-Path $PSScriptRoot '../../out/RestoreTools/RestoreTools.psd1' }
    $script:ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
    Import-Module $ModulePath -Force -ErrorAction Stop

    function Invoke-Tool {
        param([string] $File, [string[]] $ArgumentList)
        $out = & $File @ArgumentList 2>&1
        if ($LASTEXITCODE -ne 0) { throw "$File $($ArgumentList -join ' ') failed ($LASTEXITCODE): $out" }
        $out
    }

    # Errors written by one command, as a list.
    function Get-Errors {
        param([scriptblock] $Script)
        $ErrorActionPreference = 'Continue'
        $all = & $Script 2>&1
        , @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
    }

    # Relative path -> "type|mode|mtime|size|hash|linktarget" for everything below a folder, from stat.
    # Folder sizes are left out (they depend on the file system), so are symlink mtimes.
    function Get-TreeManifest {
        param([string] $Dir)
        $lines = Invoke-Tool bash @('-c', "cd '$Dir' && find . -mindepth 1 -exec stat -c '%n|%F|%a|%Y|%s' {} + | sort")
        $map = [ordered]@{}
        foreach ($l in $lines) {
            $name, $type, $mode, $mtime, $size = "$l" -split '\|'
            $name = $name.Substring(2)
            $full = Join-Path $Dir $name
            $entry = switch ($type) {
                'directory' { "dir|$mode|$mtime" }
                'symbolic link' { "link|$((Get-Item -LiteralPath $full -Force).LinkTarget)" }
                default { "file|$mode|$mtime|$size|$((Get-FileHash -LiteralPath $full -Algorithm SHA256).Hash)" }
            }
            $map[$name] = $entry
        }
        $map
    }

    function Compare-Manifest($Expected, $Actual) {
        ($Actual.Keys -join "`n") | Should -Be ($Expected.Keys -join "`n")
        foreach ($k in $Expected.Keys) { $Actual[$k] | Should -Be $Expected[$k] -Because $k }
    }

    $script:Work = Join-Path ([IO.Path]::GetTempPath()) "restoretools-browse-$PID"
    $null = New-Item -ItemType Directory -Path $Work -Force

    # --- the tree: files with known content, modes and mtimes, links, a hostile folder, a big file
    $script:Tree = Join-Path $Work 'tree'
    foreach ($d in 'etc', 'home/alice/deep/a/b', 'home/bob', 'links', 'hostile', 'big', 'empty') {
        $null = New-Item -ItemType Directory -Path (Join-Path $Tree $d) -Force
    }
    [IO.File]::WriteAllText("$Tree/etc/hostname", "browse-host`n")
    $script:LinesText = "one`ntwo`nthree`nfour`nfive`n"
    [IO.File]::WriteAllText("$Tree/etc/lines.txt", $LinesText)
    [IO.File]::WriteAllText("$Tree/home/alice/notes.txt", "alice's notes`n")
    [IO.File]::WriteAllText("$Tree/home/alice/deep/a/b/c.txt", "deep`n")
    [IO.File]::WriteAllText("$Tree/home/bob/secret.txt", "bob`n")
    $bytes = [byte[]]::new(100KB + 7); [Random]::new(42).NextBytes($bytes)
    [IO.File]::WriteAllBytes("$Tree/home/alice/data.bin", $bytes)
    Invoke-Tool ln @('-s', '../etc/hostname', "$Tree/links/rel")
    Invoke-Tool ln @('-s', '/etc/hostname', "$Tree/links/abs")
    Invoke-Tool ln @('-s', '../home', "$Tree/links/dir")
    Invoke-Tool ln @('-s', '../../../../etc/shadow', "$Tree/hostile/shadow")
    Invoke-Tool ln @('-s', '/etc', "$Tree/hostile/etc")
    Invoke-Tool bash @('-c', "head -c 200M /dev/urandom > '$Tree/big/big.bin'")
    # Parentheses: the comma binds tighter than +.
    Invoke-Tool bash @('-c', ("cd '$Tree' && chmod 0600 home/bob/secret.txt && chmod 0750 home/alice && chmod 0640 home/alice/notes.txt " +
        "&& chmod 4755 etc/lines.txt && touch -d '2020-02-03 04:05:06' home/alice/notes.txt && touch -d '2019-05-06 07:08:09' home/alice/deep " +
        "&& touch -h -d '2018-01-01 00:00:00' links/rel"))

    $script:Image = Join-Path $Work 'browse.img'
    Invoke-Tool truncate @('-s', '400M', $Image)
    Invoke-Tool mkfs.ext4 @('-q', '-F', '-L', 'browse', '-d', $Tree, $Image)

    $script:DiskName = "br$PID"
    $null = Mount-RestoreImage -LiteralPath $Image -Name $DiskName -ErrorAction Stop
    $script:Root = "/$DiskName/raw"
    $script:Local = (Resolve-RestorePath $Root).LocalPath
}

AfterAll {
    if (Get-Module RestoreTools) {
        if ($DiskName) { Dismount-RestoreImage -Name $DiskName -Confirm:$false -ErrorAction SilentlyContinue }
        Remove-Module RestoreTools -Force
    }
    if ($Work -and (Test-Path -LiteralPath $Work)) { Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'Get-RestoreChildItem' {
    It 'lists a folder as stat sees it on the mounted file system (size, mode, mtime)' {
        $items = @(Get-RestoreChildItem "$Root/home/alice")
        $items.Count | Should -Be 3
        foreach ($i in $items) {
            $i.GetType().FullName | Should -Be 'RestoreTools.Engine.Browsing.RestoreItem'
            $i.Path | Should -Be "$Root/home/alice/$($i.Name)"
            $size, $mode, $mtime, $text = (Invoke-Tool stat @('-c', '%s %a %Y %A', "$Local/home/alice/$($i.Name)")) -split ' '
            if ($i.Type -eq 'File') { $i.Size | Should -Be ([long]$size) }
            [Convert]::ToString($i.Mode, 8) | Should -Be $mode
            $i.LastWriteTime.ToUnixTimeSeconds() | Should -Be ([long]$mtime)
            $i.ModeString | Should -Be $text
        }
        $notes = $items | Where-Object Name -eq 'notes.txt'
        $notes.ModeString | Should -Be '-rw-r-----'
        $notes.LastWriteTime.ToUnixTimeSeconds() | Should -Be ([DateTimeOffset]::new([datetime]'2020-02-03 04:05:06').ToUnixTimeSeconds())
        (Get-RestoreChildItem "$Root/etc/lines.txt").ModeString | Should -Be '-rwsr-xr-x'
    }

    It 'lists a file as itself' {
        $i = @(Get-RestoreChildItem "$Root/etc/hostname")
        $i.Count | Should -Be 1
        $i[0].Size | Should -Be 12
        $i[0].Type | Should -Be 'File'
    }

    It '-Recurse lists everything below, as find does, and never walks symlinks' {
        $got = @(Get-RestoreChildItem "$Root/home" -Recurse | ForEach-Object { $_.Path.Substring("$Root/home/".Length) } | Sort-Object)
        $want = @(Invoke-Tool bash @('-c', "cd '$Local/home' && find . -mindepth 1 -printf '%P\n'") | Sort-Object)
        $got | Should -Be $want
        $links = @(Get-RestoreChildItem "$Root/links" -Recurse)
        ($links.Name | Sort-Object) | Should -Be @('abs', 'dir', 'rel')
        $links | Where-Object Path -like "$Root/links/dir/*" | Should -BeNullOrEmpty
    }

    It '-Depth limits the levels (and implies -Recurse)' {
        $d0 = @(Get-RestoreChildItem "$Root/home" -Depth 0 | ForEach-Object Name | Sort-Object)
        $d0 | Should -Be @('alice', 'bob')
        $d1 = @(Get-RestoreChildItem "$Root/home" -Depth 1 | ForEach-Object { $_.Path.Substring("$Root/home/".Length) } | Sort-Object)
        $d1 | Should -Be @('alice', 'alice/data.bin', 'alice/deep', 'alice/notes.txt', 'bob', 'bob/secret.txt')
        @(Get-RestoreChildItem "$Root/home" -Recurse -Depth 2) | Where-Object Name -eq 'a' | Should -Not -BeNullOrEmpty
        @(Get-RestoreChildItem "$Root/home" -Recurse -Depth 2) | Where-Object Name -eq 'b' | Should -BeNullOrEmpty
    }

    It '-Filter matches names with wildcards (and still walks every folder)' {
        $got = @(Get-RestoreChildItem "$Root/home" -Recurse -Filter '*.TXT' | ForEach-Object { $_.Path.Substring("$Root/home/".Length) } | Sort-Object)
        $want = @(Invoke-Tool bash @('-c', "cd '$Local/home' && find . -iname '*.txt' -printf '%P\n'") | Sort-Object)
        $got | Should -Be $want
        $got | Should -Contain 'alice/deep/a/b/c.txt'
        @(Get-RestoreChildItem "$Root/etc" -Filter 'host*').Name | Should -Be 'hostname'
    }

    It 'lists symlinks as links with their targets' {
        $links = Get-RestoreChildItem "$Root/links" | Sort-Object Name
        $links.Type | Should -Be @('Symlink', 'Symlink', 'Symlink')
        $links.LinkTarget | Should -Be @('/etc/hostname', '../home', '../etc/hostname')
        ($links | Where-Object Name -eq 'rel').ModeString[0] | Should -Be 'l'
        ($links | Where-Object Name -eq 'rel').LastWriteTime.ToUnixTimeSeconds() |
            Should -Be ([long](Invoke-Tool stat @('-c', '%Y', "$Local/links/rel")))
    }

    It 'lists disks, bucket types and buckets at partial paths' {
        (Get-RestoreChildItem '/' | Where-Object Name -eq $DiskName).Type | Should -Be 'Disk'
        $b = @(Get-RestoreChildItem "/$DiskName")
        $b.Name | Should -Be 'raw'
        $b.Type | Should -Be 'Bucket'
    }

    It 'binds piped items by Path' {
        $names = @(Get-RestoreChildItem "$Root/home" | Get-RestoreChildItem | ForEach-Object Name | Sort-Object)
        $names | Should -Be @('data.bin', 'deep', 'notes.txt', 'secret.txt')
    }

    It 'writes ItemNotFound for a missing path' {
        $errs = Get-Errors { Get-RestoreChildItem "$Root/nope" }
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'ItemNotFound,*'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'shows Mode, LastWriteTime, Length and Name by default, links as name -> target' {
        $text = Get-RestoreChildItem "$Root/home/alice" | Out-String -Width 200
        $text | Should -Match 'Mode\s+LastWriteTime\s+Length\s+Name'
        $text | Should -Match '-rw-r-----\s+\S+\s+\S+\s+14 notes\.txt'
        $text | Should -Match 'drwxr-xr-x\s+\S+\s+\S+\s+deep'
        $text | Should -Match "Directory: $([regex]::Escape("$Root/home/alice"))"
        (Get-RestoreChildItem "$Root/links" | Out-String -Width 200) | Should -Match 'rel -> \.\./etc/hostname'
    }
}

Describe 'Get-RestoreContent' {
    It 'writes the lines' {
        $lines = @(Get-RestoreContent "$Root/etc/lines.txt")
        $lines | Should -Be @('one', 'two', 'three', 'four', 'five')
        $lines[0] | Should -BeOfType [string]
    }

    It '-TotalCount stops after that many lines' {
        @(Get-RestoreContent "$Root/etc/lines.txt" -TotalCount 2) | Should -Be @('one', 'two')
        @(Get-RestoreContent "$Root/etc/lines.txt" -TotalCount 0).Count | Should -Be 0
    }

    It '-Raw gives one string with the line ends' {
        $raw = Get-RestoreContent "$Root/etc/lines.txt" -Raw
        @($raw).Count | Should -Be 1
        $raw | Should -BeExactly $LinesText
        Get-RestoreContent "$Root/etc/lines.txt" -Raw -TotalCount 2 | Should -BeExactly "one`ntwo`n"
    }

    It '-AsByteStream gives the bytes, -TotalCount as many bytes' {
        $want = [IO.File]::ReadAllBytes("$Tree/home/alice/data.bin")
        $raw = Get-RestoreContent "$Root/home/alice/data.bin" -AsByteStream -Raw
        $raw.GetType().FullName | Should -Be 'System.Byte[]'
        [Convert]::ToHexString($raw) | Should -Be ([Convert]::ToHexString($want))
        $first = @(Get-RestoreContent "$Root/home/alice/data.bin" -AsByteStream -TotalCount 10)
        $first.Count | Should -Be 10
        $first[0] | Should -BeOfType [byte]
        [Convert]::ToHexString([byte[]]$first) | Should -Be ([Convert]::ToHexString($want[0..9]))
    }

    It 'reads a link inside the image, never the host''s file' {
        Get-RestoreContent "$Root/links/abs" | Should -Be 'browse-host'
    }

    It 'writes NotAFile for a folder and ItemNotFound for a missing file' {
        $errs = Get-Errors { Get-RestoreContent "$Root/etc" }
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'NotAFile,*'
        $errs = Get-Errors { Get-RestoreContent "$Root/etc/missing" }
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'ItemNotFound,*'
    }
}

Describe 'Copy-RestoreItem' {
    BeforeEach {
        $script:Dest = Join-Path $Work "copy-$([guid]::NewGuid().ToString('N'))"
        $null = New-Item -ItemType Directory -Path $Dest
    }

    It 'copies a tree byte-identical, with modes, mtimes and symlinks kept' {
        Copy-RestoreItem "$Root/home" -Destination $Dest -Recurse
        Compare-Manifest (Get-TreeManifest "$Local/home") (Get-TreeManifest "$Dest/home")
        $hashes = { param($d) Get-ChildItem $d -File -Recurse | ForEach-Object { "$([IO.Path]::GetRelativePath($d, $_.FullName)) $((Get-FileHash $_.FullName).Hash)" } | Sort-Object }
        (& $hashes "$Dest/home") | Should -Be (& $hashes "$Tree/home")
        Invoke-Tool stat @('-c', '%a', "$Dest/home/alice") | Should -Be '750'
    }

    It 'keeps symlinks as links' {
        Copy-RestoreItem "$Root/links" -Destination $Dest -Recurse
        foreach ($n in 'rel', 'abs', 'dir') {
            (Get-Item "$Dest/links/$n" -Force).LinkType | Should -Be 'SymbolicLink'
        }
        (Get-Item "$Dest/links/rel").LinkTarget | Should -Be '../etc/hostname'
        (Get-Item "$Dest/links/dir").LinkTarget | Should -Be '../home'
    }

    It 'copies a hostile image''s escaping links as links and never reads through them' {
        Copy-RestoreItem "$Root/hostile" -Destination $Dest -Recurse
        $shadow = Get-Item "$Dest/hostile/shadow" -Force
        $shadow.LinkType | Should -Be 'SymbolicLink'
        $shadow.LinkTarget | Should -Be '../../../../etc/shadow'
        $etc = Get-Item "$Dest/hostile/etc" -Force
        $etc.LinkType | Should -Be 'SymbolicLink'
        $etc.LinkTarget | Should -Be '/etc'
        @(Invoke-Tool bash @('-c', "find '$Dest' -mindepth 1 -printf '%y %P\n'") | Sort-Object) |
            Should -Be @('d hostile', 'l hostile/etc', 'l hostile/shadow')
        # Reading through the link stays inside the image, which has no /etc/shadow.
        $errs = Get-Errors { Get-RestoreContent "$Root/hostile/shadow" }
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -Not -BeLike 'ReadFailed,*'
    }

    It 'copies a file to a new path, and into a folder under its own name' {
        Copy-RestoreItem "$Root/etc/hostname" -Destination "$Dest/renamed"
        Get-Content -Raw "$Dest/renamed" | Should -BeExactly "browse-host`n"
        Copy-RestoreItem "$Root/etc/hostname" -Destination $Dest
        Get-Content -Raw "$Dest/hostname" | Should -BeExactly "browse-host`n"
    }

    It 'resolves a relative destination against the PowerShell location' {
        Push-Location $Dest
        try { Copy-RestoreItem "$Root/home/bob/secret.txt" 'sub-name.txt' } finally { Pop-Location }
        Get-Content -Raw "$Dest/sub-name.txt" | Should -BeExactly "bob`n"
        Invoke-Tool stat @('-c', '%a', "$Dest/sub-name.txt") | Should -Be '600'
    }

    It 'copies only the folder without -Recurse' {
        Copy-RestoreItem "$Root/home" -Destination $Dest
        Test-Path "$Dest/home" -PathType Container | Should -BeTrue
        @(Get-ChildItem "$Dest/home" -Force).Count | Should -Be 0
    }

    It 'never overwrites without -Force (TargetExists, naming the destination), overwrites with -Force' {
        Set-Content -LiteralPath "$Dest/hostname" -Value 'mine' -NoNewline
        $errs = Get-Errors { Copy-RestoreItem "$Root/etc/hostname" -Destination $Dest }
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'TargetExists,*'
        $errs[0].TargetObject | Should -Be "$Dest/hostname"
        Get-Content -Raw "$Dest/hostname" | Should -BeExactly 'mine'

        Copy-RestoreItem "$Root/etc/hostname" -Destination $Dest -Force
        Get-Content -Raw "$Dest/hostname" | Should -BeExactly "browse-host`n"
    }

    It 'reports each existing file of a tree with its restore path and copies the rest' {
        Copy-RestoreItem "$Root/home" -Destination $Dest -Recurse
        Remove-Item "$Dest/home/bob/secret.txt"
        $errs = Get-Errors { Copy-RestoreItem "$Root/home" -Destination $Dest -Recurse }
        $errs.Count | Should -Be 3   # notes.txt, data.bin, c.txt exist; secret.txt is copied again
        # Each names the file in the way (the destination), and its message the restore path too.
        $errs.TargetObject | Should -Contain "$Dest/home/alice/notes.txt"
        ($errs | Where-Object TargetObject -eq "$Dest/home/alice/notes.txt").Exception.Message | Should -BeLike "$Root/home/alice/notes.txt: '*notes.txt' exists (use -Force to overwrite)"
        $errs | ForEach-Object { $_.FullyQualifiedErrorId | Should -BeLike 'TargetExists,*' }
        Get-Content -Raw "$Dest/home/bob/secret.txt" | Should -BeExactly "bob`n"
    }

    It '-WhatIf copies nothing' {
        Copy-RestoreItem "$Root/home" -Destination $Dest -Recurse -WhatIf
        @(Get-ChildItem $Dest -Force).Count | Should -Be 0
    }

    It '-PassThru returns the copied root' {
        $out = @(Copy-RestoreItem "$Root/home" -Destination $Dest -Recurse -PassThru)
        $out.Count | Should -Be 1
        $out[0] | Should -BeOfType [System.IO.DirectoryInfo]
        $out[0].FullName | Should -Be (Join-Path $Dest 'home')
        $f = Copy-RestoreItem "$Root/etc/hostname" -Destination "$Dest/h.txt" -PassThru
        $f | Should -BeOfType [System.IO.FileInfo]
        $f.Length | Should -Be 12
        Copy-RestoreItem "$Root/etc/lines.txt" -Destination $Dest | Should -BeNullOrEmpty
    }

    It 'writes progress records during a long copy and copies the 200 MB file intact' {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddCommand('Import-Module').AddParameter('Name', $ModulePath).AddStatement().
                AddCommand('Copy-RestoreItem').AddParameter('Path', "$Root/big/big.bin").AddParameter('Destination', $Dest)
            $null = $ps.Invoke()
            $ps.Streams.Error.Count | Should -Be 0
            $ps.Streams.Progress.Count | Should -BeGreaterThan 0
            $last = $ps.Streams.Progress[$ps.Streams.Progress.Count - 1]
            $last.RecordType | Should -Be 'Completed'
            $last.Activity | Should -BeLike "Copy-RestoreItem*big.bin"
            $ps.Streams.Progress | Where-Object CurrentOperation -Match 'file' | Should -Not -BeNullOrEmpty
        } finally { $ps.Dispose() }
        (Get-FileHash "$Dest/big.bin").Hash | Should -Be (Get-FileHash "$Tree/big/big.bin").Hash
    }

    It 'writes ItemNotFound for a missing item and goes on with the next' {
        $errs = Get-Errors { Copy-RestoreItem "$Root/nope", "$Root/etc/hostname" -Destination $Dest }
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'ItemNotFound,*'
        Test-Path "$Dest/hostname" | Should -BeTrue
    }

    It 'copies items piped from Get-RestoreChildItem' {
        Get-RestoreChildItem "$Root/etc" -Filter '*.txt' | Copy-RestoreItem -Destination $Dest
        @(Get-ChildItem $Dest).Name | Should -Be 'lines.txt'
    }
}

Describe 'Export-RestoreItem' {
    BeforeEach {
        $script:Dest = Join-Path $Work "export-$([guid]::NewGuid().ToString('N'))"
        $null = New-Item -ItemType Directory -Path $Dest
    }

    It 'writes a <Name> archive that <Tool> extracts to the same bytes' -ForEach @(
        @{ Name = 'x.tar'; Tool = 'tar'; Extract = 'tar -xf' }
        @{ Name = 'x.tar.gz'; Tool = 'tar'; Extract = 'tar -xzf' }
        @{ Name = 'x.tar.zst'; Tool = 'tar'; Extract = 'tar --zstd -xf' }
        @{ Name = 'x.zip'; Tool = 'unzip'; Extract = 'unzip -q' }
    ) {
        Export-RestoreItem "$Root/home" -Destination "$Dest/$Name"
        $out = Join-Path $Dest 'x'
        $null = New-Item -ItemType Directory -Path $out
        Invoke-Tool bash @('-c', "cd '$out' && $Extract '$Dest/$Name'")
        $want = Get-TreeManifest "$Local/home"
        $got = Get-TreeManifest "$out/home"
        if ($Tool -eq 'unzip') {
            # Zip keeps DOS times (2-second steps): compare mtimes to within 2 s, the rest exactly.
            foreach ($k in @($want.Keys)) {
                $w = $want[$k] -split '\|'; $g = "$($got[$k])" -split '\|'
                if ($w[0] -ne 'link' -and $g.Count -ge 3) {
                    [Math]::Abs([long]$w[2] - [long]$g[2]) | Should -BeLessOrEqual 2 -Because "mtime of $k"
                    $w[2] = $g[2] = 't'
                }
                $want[$k] = $w -join '|'; $got[$k] = $g -join '|'
            }
        }
        Compare-Manifest $want $got
        @(Get-ChildItem $Dest -Force -Filter '*.partial').Count | Should -Be 0
    }

    It 'picks the format from the extension: .tgz gzip, .zip zip, a file raw, a folder without one tar' {
        Export-RestoreItem "$Root/etc" "$Dest/e.tgz"
        [Convert]::ToHexString([IO.File]::ReadAllBytes("$Dest/e.tgz")[0..1]) | Should -Be '1F8B'
        Export-RestoreItem "$Root/etc" "$Dest/e.zip"
        [Text.Encoding]::ASCII.GetString([IO.File]::ReadAllBytes("$Dest/e.zip")[0..1]) | Should -Be 'PK'
        Export-RestoreItem "$Root/home/alice/data.bin" "$Dest/data.copy"
        (Get-FileHash "$Dest/data.copy").Hash | Should -Be (Get-FileHash "$Tree/home/alice/data.bin").Hash
        # A folder to a name with no extension is a tar; an extension it cannot write is refused (below).
        Export-RestoreItem "$Root/etc" "$Dest/etc-archive"
        (Invoke-Tool tar @('-tf', "$Dest/etc-archive") | Sort-Object) | Should -Be @('etc/', 'etc/hostname', 'etc/lines.txt')
        Export-RestoreItem "$Root/etc" "$Dest/forced.bin" -Format Zip
        [Text.Encoding]::ASCII.GetString([IO.File]::ReadAllBytes("$Dest/forced.bin")[0..1]) | Should -Be 'PK'
    }

    It 'writes into an existing folder under the item''s name' {
        Export-RestoreItem "$Root/etc" $Dest -Format TarGz
        Test-Path "$Dest/etc.tar.gz" | Should -BeTrue
    }

    It 'keeps a hostile image''s escaping links as links in the archive' {
        Export-RestoreItem "$Root/hostile" "$Dest/h.tar"
        $listing = Invoke-Tool tar @('-tvf', "$Dest/h.tar")
        ($listing -join "`n") | Should -Match 'hostile/shadow -> \.\./\.\./\.\./\.\./etc/shadow'
        ($listing -join "`n") | Should -Match 'hostile/etc -> /etc'
        @($listing).Count | Should -Be 3
    }

    It 'refuses an archive name it cannot write, rather than write a tar under it; -Format decides' {
        $errs = Get-Errors { Export-RestoreItem "$Root/etc" "$Dest/etc.7z" }
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'NotSupported,*'
        "$($errs[0])" | Should -BeLike "*'.7z' is not an archive this cmdlet writes*"
        Test-Path "$Dest/etc.7z" | Should -BeFalse
        Export-RestoreItem "$Root/etc" "$Dest/etc.7z" -Format Zip
        (Invoke-Tool unzip @('-l', "$Dest/etc.7z")) -join "`n" | Should -Match 'etc/hostname'
        Remove-Item "$Dest/etc.7z"
    }

    It 'never overwrites without -Force (TargetExists), overwrites with -Force' {
        Set-Content -LiteralPath "$Dest/e.tar" -Value 'mine' -NoNewline
        $errs = Get-Errors { Export-RestoreItem "$Root/etc" "$Dest/e.tar" }
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'TargetExists,*'
        Get-Content -Raw "$Dest/e.tar" | Should -BeExactly 'mine'
        Export-RestoreItem "$Root/etc" "$Dest/e.tar" -Force
        (Invoke-Tool tar @('-tf', "$Dest/e.tar")) | Should -Contain 'etc/hostname'
        @(Get-ChildItem $Dest -Force).Name | Should -Be 'e.tar'
    }

    It '-WhatIf writes nothing' {
        Export-RestoreItem "$Root/etc" "$Dest/e.tar" -WhatIf
        @(Get-ChildItem $Dest -Force).Count | Should -Be 0
    }

    It '-PassThru returns the file; nothing without it' {
        $f = Export-RestoreItem "$Root/etc" "$Dest/e.zip" -PassThru
        $f | Should -BeOfType [System.IO.FileInfo]
        $f.FullName | Should -Be "$Dest/e.zip"
        Export-RestoreItem "$Root/etc" "$Dest/f.zip" | Should -BeNullOrEmpty
    }

    It 'refuses raw export of a folder (NotAFile) and leaves nothing behind' {
        $errs = Get-Errors { Export-RestoreItem "$Root/etc" "$Dest/e.raw" -Format Raw }
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'NotAFile,*'
        @(Get-ChildItem $Dest -Force).Count | Should -Be 0
    }

    It 'writes ItemNotFound for a missing item and leaves nothing behind' {
        $errs = Get-Errors { Export-RestoreItem "$Root/nope" "$Dest/n.tar" }
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'ItemNotFound,*'
        @(Get-ChildItem $Dest -Force).Count | Should -Be 0
    }

    It 'writes progress records' {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddCommand('Import-Module').AddParameter('Name', $ModulePath).AddStatement().
                AddCommand('Export-RestoreItem').AddParameter('Path', "$Root/home").AddParameter('Destination', "$Dest/p.tar")
            $null = $ps.Invoke()
            $ps.Streams.Error.Count | Should -Be 0
            $ps.Streams.Progress.Count | Should -BeGreaterThan 0
        } finally { $ps.Dispose() }
    }
}

Describe 'Help of the browse cmdlets' {
    It '<_> has a synopsis, a description and >= 2 examples' -ForEach 'Get-RestoreChildItem', 'Get-RestoreContent', 'Copy-RestoreItem', 'Export-RestoreItem' {
        $help = Get-Help $_ -Full
        $help.Synopsis | Should -Not -BeLike "$_ *"
        ($help.Description.Text -join ' ') | Should -Not -BeNullOrEmpty
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        foreach ($p in (Get-Command $_).Parameters.Keys | Where-Object { $_ -notin $common }) {
            ($help.Parameters.Parameter | Where-Object Name -eq $p).Description.Text | Should -Not -BeNullOrEmpty -Because "-$p"
        }
    }
}
