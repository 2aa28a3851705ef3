#Requires -Version 7.4
# Wildcards in restore paths (-Path), names taken as written (-LiteralPath), several paths at once,
# and dot-names hidden unless -Force: each cmdlet on this host against a real GPT image (sfdisk,
# mkfs.ext4 -d, loop devices, real mounts), and through a real restore-agent on a Unix socket.

BeforeAll {
    $ModulePath = if ($env:RESTORETOOLS_MODULE) { $env:RESTORETOOLS_MODULE } else { Join-Path $PSScriptRoot '../../out/RestoreTools/RestoreTools.psd1' }
    Import-Module (Resolve-Path -LiteralPath $ModulePath).ProviderPath -Force -ErrorAction Stop
    $Agent = if ($env:RESTORETOOLS_AGENT) { $env:RESTORETOOLS_AGENT } else { Join-Path $PSScriptRoot '../../out/agent/restore-agent' }

    function Invoke-Tool {
        param([string] $File, [string[]] $ArgumentList, [string] $InputText)
        $out = if ($InputText) { $InputText | & $File @ArgumentList 2>&1 } else { & $File @ArgumentList 2>&1 }
        if ($LASTEXITCODE -ne 0) { throw "$File $($ArgumentList -join ' ') failed ($LASTEXITCODE): $out" }
    }

    # Errors written by one command, as a list.
    function Get-Errors([scriptblock] $Script) {
        $ErrorActionPreference = 'Continue'
        , @(& $Script 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
    }

    $script:Work = Join-Path ([IO.Path]::GetTempPath()) "restoretools-wild-$PID"
    $null = New-Item -ItemType Directory -Path $Work -Force

    # Partition 1: names PowerShell paths trip on ('[', '*'), dot-names; partition 2: another /etc.
    $one = Join-Path $Work 'one'
    $files = [ordered]@{
        'etc/hostname' = 'one'; 'etc/hosts' = '127.0.0.1 localhost'; 'etc/passwd' = 'root:x:0:0::/root:/bin/sh'; 'etc/.hidden' = 'hidden'
        'home/alice/notes.txt' = 'alice'; 'home/bob/notes.txt' = 'bob'; 'home/.cache/notes.txt' = 'cache'
        'odd/a[1].txt' = 'brackets'; 'odd/a1.txt' = 'a1'; 'odd/star*name.txt' = 'star'; 'odd/star-plain.txt' = 'plain'; 'odd/star*.txt' = 'hostile'
    }
    foreach ($f in $files.Keys) {
        $full = [IO.Path]::Combine($one, $f)
        $null = [IO.Directory]::CreateDirectory([IO.Path]::GetDirectoryName($full))
        [IO.File]::WriteAllText($full, $files[$f] + "`n")
    }
    $two = Join-Path $Work 'two'
    $null = New-Item -ItemType Directory -Path "$two/etc" -Force
    [IO.File]::WriteAllText("$two/etc/hostname", "two`n")
    [IO.File]::WriteAllText("$two/etc/other", "other`n")

    $script:Image = Join-Path $Work 'wild.img'
    Invoke-Tool truncate '-s', '40M', $Image
    Invoke-Tool sfdisk '-q', $Image -InputText @"
label: gpt
start=2048, size=32768, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
start=34816, size=32768, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
"@
    foreach ($p in @(@{ Tree = $one; Seek = 1 }, @{ Tree = $two; Seek = 17 })) {
        Invoke-Tool truncate '-s', '16M', "$Work/p.fs"
        Invoke-Tool mkfs.ext4 '-q', '-F', '-d', $p.Tree, "$Work/p.fs"
        Invoke-Tool dd "if=$Work/p.fs", "of=$Image", 'bs=1M', "seek=$($p.Seek)", 'conv=notrunc,sparse', 'status=none'
        Remove-Item -LiteralPath "$Work/p.fs"
    }

    $script:D = "wild$PID"
    $null = Mount-RestoreImage -LiteralPath $Image -Name $D -ErrorAction Stop
    $script:R = "/$D"

    # The same image through a restore-agent on this host (its own loop devices), named w.
    $script:Socket = Join-Path $Work 'agent.sock'
    $script:TokenFile = Join-Path $Work 'token'
    $script:AgentProcess = Start-Process -FilePath $Agent -PassThru -RedirectStandardError (Join-Path $Work 'agent.log') -ArgumentList @(
        '--host', '--listen', "unix:$Socket", '--token-file', $TokenFile, '--image', "w=$Image", '--state-dir', (Join-Path $Work 'state'))
    $deadline = [DateTime]::UtcNow.AddSeconds(20)
    while (-not (Test-Path $Socket) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
    $script:S = Connect-RestoreAgent -Socket $Socket -TokenFile $TokenFile

    function New-Out { $o = Join-Path $Work "out-$([guid]::NewGuid().ToString('n').Substring(0, 8))"; $null = New-Item -ItemType Directory -Path $o; $o }
}

AfterAll {
    if ($S) { $S | Disconnect-RestoreAgent }
    if ($AgentProcess -and -not $AgentProcess.HasExited) {
        & kill -TERM $AgentProcess.Id
        if (-not $AgentProcess.WaitForExit(15000)) { $AgentProcess.Kill(); $AgentProcess.WaitForExit(5000) }
    }
    if (Get-Module RestoreTools) {
        Dismount-RestoreImage -Name $D -Confirm:$false -ErrorAction SilentlyContinue
        Remove-Module RestoreTools -Force
    }
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Get-RestoreChildItem -Path with wildcards' {
    It 'expands the last name and writes the matches themselves' {
        $items = @(Get-RestoreChildItem "$R/part/1/etc/host*")
        $items.Path | Should -Be @("$R/part/1/etc/hostname", "$R/part/1/etc/hosts")
        $items[0].GetType().Name | Should -Be 'RestoreItem'
    }

    It 'expands components, bucket types and disks' {
        (Get-RestoreChildItem "$R/part/*/etc/hostname").Path | Should -Be @("$R/part/1/etc/hostname", "$R/part/2/etc/hostname")
        (Get-RestoreChildItem "/w?ld$PID/p?rt/[1]/etc/passwd").Path | Should -Be "$R/part/1/etc/passwd"
        (Get-RestoreChildItem "$R/*/2/etc/o*").Path | Should -Be "$R/part/2/etc/other"
        (Get-RestoreChildItem "$R/part/*").Path | Should -Be @("$R/part/1", "$R/part/2")
    }

    It 'expands folders in the middle, and is case-sensitive as Linux names are' {
        (Get-RestoreChildItem "$R/part/1/home/*/notes.txt").Path | Should -Be @("$R/part/1/home/alice/notes.txt", "$R/part/1/home/bob/notes.txt")
        Get-Errors { Get-RestoreChildItem "$R/part/1/etc/HOST*" } | Should -HaveCount 1
    }

    It 'lists below the matches with -Recurse or -Depth, as Get-ChildItem does' {
        @(Get-RestoreChildItem "$R/part/*/etc" -Depth 0 -Name) | Should -Be @('hostname', 'hosts', 'passwd', 'hostname', 'other')
        @(Get-RestoreChildItem "$R/part/1/h*" -Recurse -File).Path | Should -Be @("$R/part/1/home/alice/notes.txt", "$R/part/1/home/bob/notes.txt")
    }

    It 'takes several paths, by position and from the pipeline' {
        @(Get-RestoreChildItem "$R/part/1/etc/host*", "$R/part/2/etc/o*" -Name) | Should -Be @('hostname', 'hosts', 'other')
        @("$R/part/1/etc/p*", "$R/part/2/etc/h*" | Get-RestoreChildItem).Path | Should -Be @("$R/part/1/etc/passwd", "$R/part/2/etc/hostname")
    }

    It 'treats [1] as a set with -Path, and takes the name as written with -LiteralPath (alias LP)' {
        (Get-RestoreChildItem "$R/part/1/odd/a[1].txt").Name | Should -Be 'a1.txt'
        (Get-RestoreChildItem -LiteralPath "$R/part/1/odd/a[1].txt").Name | Should -Be 'a[1].txt'
        (Get-RestoreChildItem -LP "$R/part/1/odd/a[1].txt").Name | Should -Be 'a[1].txt'
        (Get-RestoreChildItem "$R/part/1/odd/a``[1``].txt").Name | Should -Be 'a[1].txt'
    }

    It 'matches a hostile name holding * but never expands it again when piped on' {
        $items = @(Get-RestoreChildItem "$R/part/1/odd/star*")
        $items.Name | Should -Be @('star*.txt', 'star*name.txt', 'star-plain.txt')
        $items[0].RestorePath | Should -Be "$R/part/1/odd/star*.txt"
        # Piped, the item binds -LiteralPath by RestorePath: one file, not the three its name would match.
        @($items[0] | Get-RestoreContent) | Should -Be 'hostile'
        @($items[0] | Get-RestoreChildItem).Name | Should -Be 'star*.txt'
    }

    It 'says "Cannot find path" (ItemNotFound) for a pattern matching nothing, and goes on' {
        $errors = Get-Errors { $script:got = @(Get-RestoreChildItem "$R/part/1/etc/zz*", "$R/part/1/etc/hosts") }
        $got.Name | Should -Be 'hosts'
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'ItemNotFound,*'
        $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errors[0].Exception.Message | Should -Be "Cannot find path '$R/part/1/etc/zz*' because it does not exist."
        $errors[0].TargetObject | Should -Be "$R/part/1/etc/zz*"
    }

    It 'keeps the error of a literal path that does not exist' {
        $errors = Get-Errors { Get-RestoreChildItem -LiteralPath "$R/part/1/etc/zz*" }
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'ItemNotFound,*'
        $errors[0].Exception.Message | Should -BeLike "*'zz*' does not exist*"
    }

    It 'refuses an unclosed [ with a hint' {
        $errors = Get-Errors { Get-RestoreChildItem "$R/part/1/odd/a[1.txt" }
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'InvalidPath,*'
        $errors[0].Exception.Message | Should -BeLike '*-LiteralPath*'
    }
}

Describe 'Get-RestoreChildItem -Force and dot-names' {
    It 'hides names starting with . unless -Force' {
        (Get-RestoreChildItem "$R/part/1/etc").Name | Should -Not -Contain '.hidden'
        (Get-RestoreChildItem "$R/part/1/etc" -Force).Name | Should -Contain '.hidden'
    }

    It 'does not walk hidden folders unless -Force' {
        @(Get-RestoreChildItem "$R/part/1/home" -Recurse -File -Name) | Should -Be @('alice/notes.txt', 'bob/notes.txt')
        @(Get-RestoreChildItem "$R/part/1/home" -Recurse -File -Name -Force) | Should -Be @('.cache/notes.txt', 'alice/notes.txt', 'bob/notes.txt')
    }

    It 'shows a hidden item the path names: literally, or by a pattern starting with .' {
        (Get-RestoreChildItem "$R/part/1/etc/.hidden").Name | Should -Be '.hidden'
        (Get-RestoreChildItem "$R/part/1/etc/.h*").Name | Should -Be '.hidden'
        (Get-RestoreChildItem "$R/part/1/etc/*").Name | Should -Not -Contain '.hidden'
        (Get-RestoreChildItem "$R/part/1/etc/*" -Force).Name | Should -Contain '.hidden'
    }

    It 'hides them on the Restore: drive the same way' {
        (Get-ChildItem "Restore:/$D/part/1/etc").Name | Should -Not -Contain '.hidden'
        (Get-ChildItem "Restore:/$D/part/1/etc" -Force).Name | Should -Contain '.hidden'
        (Get-ChildItem "Restore:/$D/part/1/etc" -Name -Force) | Should -Contain '.hidden'
        (Get-ChildItem "Restore:/$D/part/1/etc" -Name) | Should -Not -Contain '.hidden'
        # A filter or a wildcard that starts with a dot names dot-names, as in the shell.
        (Get-ChildItem "Restore:/$D/part/1/etc" -Filter '.h*').Name | Should -Be '.hidden'
        (Resolve-Path "Restore:/$D/part/1/etc/.h*").Path | Should -Be "Restore:/$D/part/1/etc/.hidden"
        (Resolve-Path "Restore:/$D/part/1/etc/*").Path | Should -Not -Contain "Restore:/$D/part/1/etc/.hidden"
    }

    It 'still completes a dot-name on the drive when the word starts with a dot' {
        $l = "Get-Content Restore:/$D/part/1/etc/.h"
        (TabExpansion2 -inputScript $l -cursorColumn $l.Length).CompletionMatches.CompletionText | Should -Contain "Restore:/$D/part/1/etc/.hidden"
    }
}

Describe 'Get-RestoreContent with wildcards' {
    It 'reads every match, in name order' {
        @(Get-RestoreContent "$R/part/*/etc/hostname") | Should -Be @('one', 'two')
        @(Get-RestoreContent "$R/part/1/etc/hostname", "$R/part/2/etc/o*") | Should -Be @('one', 'other')
    }

    It 'reads a name with brackets with -LiteralPath, and an escaped one with -Path' {
        Get-RestoreContent -LiteralPath "$R/part/1/odd/a[1].txt" | Should -Be 'brackets'
        Get-RestoreContent "$R/part/1/odd/a[1].txt" | Should -Be 'a1'
        Get-RestoreContent "$R/part/1/odd/star``*.txt" | Should -Be 'hostile'
    }

    It 'pipes items from Resolve-RestorePath and Get-RestoreChildItem by their RestorePath' {
        Resolve-RestorePath -LiteralPath "$R/part/1/odd/star*.txt" | Get-RestoreContent | Should -Be 'hostile'
    }

    It 'says "Cannot find path" for no match' {
        $errors = Get-Errors { Get-RestoreContent "$R/part/*/etc/nothing*" }
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'ItemNotFound,*'
        $errors[0].Exception.Message | Should -Be "Cannot find path '$R/part/*/etc/nothing*' because it does not exist."
    }
}

Describe 'Copy-RestoreItem with wildcards' {
    It 'copies every match' {
        $out = New-Out
        Copy-RestoreItem "$R/part/1/etc/host*", "$R/part/2/etc/o*" -Destination $out
        (Get-ChildItem -LiteralPath $out -Name | Sort-Object) | Should -Be @('hostname', 'hosts', 'other')
    }

    It 'copies a hostile name as itself, with -LiteralPath and when piped' {
        $out = New-Out
        Copy-RestoreItem -LiteralPath "$R/part/1/odd/star*.txt" -Destination $out
        @(Get-ChildItem -LiteralPath $out -Name) | Should -Be @('star*.txt')
        $out2 = New-Out
        Get-RestoreChildItem "$R/part/1/odd/star``*.txt" | Copy-RestoreItem -Destination $out2
        @(Get-ChildItem -LiteralPath $out2 -Name) | Should -Be @('star*.txt')
        [IO.File]::ReadAllText("$out2/star*.txt") | Should -Be "hostile`n"
    }

    It 'takes dot-names by a wildcard only with -Force (a folder copied takes them all)' {
        $out = New-Out
        Copy-RestoreItem "$R/part/1/etc/*" -Destination $out
        (Get-ChildItem -LiteralPath $out -Name -Force | Sort-Object) | Should -Be @('hostname', 'hosts', 'passwd')
        $out2 = New-Out
        Copy-RestoreItem "$R/part/1/etc/*" -Destination $out2 -Force
        (Get-ChildItem -LiteralPath $out2 -Name -Force) | Should -Contain '.hidden'
        $out3 = New-Out
        Copy-RestoreItem "$R/part/1/etc" -Destination $out3 -Recurse
        (Get-ChildItem -LiteralPath "$out3/etc" -Name -Force) | Should -Contain '.hidden'
    }

    It 'copies drive paths with wildcards, expanded by the engine' {
        $out = New-Out
        Copy-RestoreItem "Restore:/$D/part/*/etc/o*" -Destination $out
        @(Get-ChildItem -LiteralPath $out -Name) | Should -Be @('other')
        $out2 = New-Out
        Copy-RestoreItem -LiteralPath "Restore:/$D/part/1/odd/a[1].txt" -Destination $out2
        @(Get-ChildItem -LiteralPath $out2 -Name) | Should -Be @('a[1].txt')
    }

    It 'says "Cannot find path" for no match and copies the rest' {
        $out = New-Out
        $errors = Get-Errors { Copy-RestoreItem "$R/part/1/etc/zz*", "$R/part/1/etc/hosts" -Destination $out }
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'ItemNotFound,*'
        @(Get-ChildItem -LiteralPath $out -Name) | Should -Be @('hosts')
    }
}

Describe 'Export-RestoreItem with wildcards' {
    It 'puts every match of every pattern into one archive' {
        $out = New-Out
        Export-RestoreItem "$R/part/1/etc/host*", "$R/part/2/etc/o*" -Destination "$out/m.tar"
        (& tar -tf "$out/m.tar" | Sort-Object) | Should -Be @('hostname', 'hosts', 'other')
    }

    It 'takes a hostile name as itself, with -LiteralPath and when piped' {
        $out = New-Out
        Export-RestoreItem -LiteralPath "$R/part/1/odd/star*.txt", "$R/part/1/odd/a[1].txt" -Destination "$out/lit.tar"
        (& tar -tf "$out/lit.tar" | Sort-Object) | Should -Be @('a[1].txt', 'star*.txt')
        Get-RestoreChildItem "$R/part/1/odd/star*" | Export-RestoreItem -Destination "$out/piped.tar"
        (& tar -tf "$out/piped.tar" | Sort-Object) | Should -Be (@('star*.txt', 'star*name.txt', 'star-plain.txt') | Sort-Object)
        & tar -xOf "$out/piped.tar" 'star*.txt' | Should -Be 'hostile'
    }

    It 'says "Cannot find path" for no match and writes the rest' {
        $out = New-Out
        $errors = Get-Errors { Export-RestoreItem "$R/part/1/etc/zz*", "$R/part/1/etc/pass*" -Destination "$out/rest.tar" }
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'ItemNotFound,*'
        @(& tar -tf "$out/rest.tar") | Should -Be @('passwd')
    }

    It 'expands through a restore-agent into one archive' {
        $out = New-Out
        Export-RestoreItem -Session $S "/w/part/1/etc/host*", "/w/part/2/etc/o*" -Destination "$out/agent.zip"
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [IO.Compression.ZipFile]::OpenRead("$out/agent.zip")
        try { ($zip.Entries.FullName | Sort-Object) | Should -Be @('hostname', 'hosts', 'other') } finally { $zip.Dispose() }
    }
}

Describe 'Resolve-RestorePath, Mount-RestoreBucket and Dismount-RestoreBucket with wildcards' {
    It 'resolves every match' {
        @(Resolve-RestorePath "$R/part/*/etc/hostname").Path | Should -Be @("$R/part/1/etc/hostname", "$R/part/2/etc/hostname")
        (Resolve-RestorePath -LiteralPath "$R/part/1/odd/a[1].txt").RelativePath | Should -Be '/odd/a[1].txt'
        $errors = Get-Errors { Resolve-RestorePath "$R/part/[89]" }
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'ItemNotFound,*'
    }

    It 'unmounts and mounts every bucket a pattern names' {
        Dismount-RestoreBucket "$R/part/*" -Confirm:$false
        @(Get-RestoreBucket $D | Where-Object IsMounted) | Should -HaveCount 0
        $mounted = @(Mount-RestoreBucket "$R/part/*" -PassThru)
        $mounted.Path | Should -Be @("$R/part/1", "$R/part/2")
        @(Get-RestoreBucket $D | Where-Object IsMounted) | Should -HaveCount 2
        @(Get-RestoreBucket $D | Dismount-RestoreBucket -PassThru -Confirm:$false).IsMounted | Should -Be @($false, $false)
    }

    It 'says "Cannot find path" for a pattern naming no bucket' {
        $errors = Get-Errors { Mount-RestoreBucket "$R/part/[89]" }
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'ItemNotFound,*'
    }
}

Describe 'Wildcards through a restore-agent' {
    It 'Get-RestoreChildItem expands on the agent as on this host' {
        $remote = @(Get-RestoreChildItem -Session $S "/w/part/*/etc/host*")
        $remote.Path | Should -Be @('/w/part/1/etc/hostname', '/w/part/1/etc/hosts', '/w/part/2/etc/hostname')
        $remote[0].RestoreSession.Id | Should -Be $S.Id
        (Get-RestoreChildItem -Session $S "/w/part/1/etc" -Force).Name | Should -Contain '.hidden'
        (Get-RestoreChildItem -Session $S "/w/part/1/etc").Name | Should -Not -Contain '.hidden'
        (Get-RestoreChildItem -Session $S -LiteralPath "/w/part/1/odd/a[1].txt").Name | Should -Be 'a[1].txt'
    }

    It 'Copy-RestoreItem copies matches and hostile names through the agent' {
        $out = New-Out
        Copy-RestoreItem -Session $S "/w/part/*/etc/hostname" -Destination $out -ErrorAction SilentlyContinue -ErrorVariable e
        # Both are named hostname: the second is refused, not overwritten.
        $e | Where-Object FullyQualifiedErrorId -like 'TargetExists*' | Should -HaveCount 1
        Get-Content -LiteralPath "$out/hostname" | Should -Be 'one'
        $out2 = New-Out
        Get-RestoreChildItem -Session $S "/w/part/1/odd/star*" | Where-Object Name -eq 'star*.txt' | Copy-RestoreItem -Destination $out2
        @(Get-ChildItem -LiteralPath $out2 -Name) | Should -Be @('star*.txt')
        $out3 = New-Out
        Copy-RestoreItem -Session $S -LiteralPath "/w/part/1/odd/a[1].txt" -Destination $out3
        @(Get-ChildItem -LiteralPath $out3 -Name) | Should -Be @('a[1].txt')
    }

    It 'says "Cannot find path" for no match through the agent' {
        $errors = Get-Errors { Get-RestoreChildItem -Session $S "/w/part/*/nothing*" }
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'ItemNotFound,*'
        $errors[0].Exception.Message | Should -Be "Cannot find path '/w/part/*/nothing*' because it does not exist."
    }

    It 'Get-RestoreContent and Resolve-RestorePath expand through the agent' {
        @(Get-RestoreContent -Session $S "/w/part/*/etc/hostname") | Should -Be @('one', 'two')
        @(Resolve-RestorePath -Session $S "/w/part/*").Path | Should -Be @('/w/part/1', '/w/part/2')
    }
}

Describe 'Tab completion for -Path and -LiteralPath' {
    It 'escapes wildcard characters of names for -Path, and not for -LiteralPath' {
        $l = "Get-RestoreContent $R/part/1/odd/a"
        $c = (TabExpansion2 -inputScript $l -cursorColumn $l.Length).CompletionMatches.CompletionText
        $c | Should -Contain "'$R/part/1/odd/a``[1``].txt'"
        $l = "Get-RestoreContent -LiteralPath $R/part/1/odd/a"
        $c = (TabExpansion2 -inputScript $l -cursorColumn $l.Length).CompletionMatches.CompletionText
        $c | Should -Contain "'$R/part/1/odd/a[1].txt'"
        # What -Path completes names that one file.
        Get-RestoreContent "$R/part/1/odd/a``[1``].txt" | Should -Be 'brackets'
    }
}
