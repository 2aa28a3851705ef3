#Requires -Version 7.4
# The restore VM's transports (issue 15), through a real VM under qemu: by default (no
# vhost-vsock on this host) the agent is reached over virtio-serial ports, exposed by qemu as Unix
# sockets in the VM's folder, one HTTP connection per port; -Transport tcp falls back to
# user-mode networking (slirp) to a loopback port. The same API and client on both.

BeforeAll {
    $ModulePath = if ($env:RESTORETOOLS_MODULE) { $env:RESTORETOOLS_MODULE } else { Join-Path $PSScriptRoot '../../out/RestoreTools/RestoreTools.psd1' }
    Import-Module (Resolve-Path -LiteralPath $ModulePath).ProviderPath -Force -ErrorAction Stop
    $env:RESTORETOOLS_VM_STATE = Join-Path ([IO.Path]::GetTempPath()) "restoretools-vms-xport-$PID"
    $env:RESTORETOOLS_VM_SNAPSHOTS = Join-Path ([IO.Path]::GetTempPath()) "restoretools-snapshots-xport-$PID"

    $script:Work = Join-Path ([IO.Path]::GetTempPath()) "restoretools-xport-$PID"
    $null = New-Item -ItemType Directory -Path "$Work/src/docs" -Force
    # 24 MiB of random bytes: many 32 KiB frames, and more than any buffer on the way.
    $bytes = [byte[]]::new(24MB)
    [Security.Cryptography.RandomNumberGenerator]::Fill($bytes)
    [IO.File]::WriteAllBytes("$Work/src/big.bin", $bytes)
    Set-Content -LiteralPath "$Work/src/docs/readme.txt" -Value 'transport test'
    $script:BigHash = (Get-FileHash -LiteralPath "$Work/src/big.bin" -Algorithm SHA256).Hash
    $script:Img = Join-Path $Work 'xport.img'
    & truncate -s 64M $Img
    & mkfs.ext4 -q -F -d "$Work/src" $Img
    if ($LASTEXITCODE -ne 0) { throw 'mkfs.ext4 failed' }

    # Reads each stream to its end, a block from each in turn: both answers are open at once.
    function Get-InterleavedHashes([IO.Stream[]] $Streams) {
        $hashes = $Streams | ForEach-Object { [Security.Cryptography.IncrementalHash]::CreateHash('SHA256') }
        $done = [bool[]]::new($Streams.Count)
        $buffer = [byte[]]::new(64KB)
        while ($done -contains $false) {
            for ($i = 0; $i -lt $Streams.Count; $i++) {
                if ($done[$i]) { continue }
                $n = $Streams[$i].Read($buffer, 0, $buffer.Length)
                if ($n -eq 0) { $done[$i] = $true } else { $hashes[$i].AppendData($buffer, 0, $n) }
            }
        }
        $hashes | ForEach-Object { [Convert]::ToHexString($_.GetHashAndReset()) }
    }
}

AfterAll {
    Get-RestoreVM -ErrorAction SilentlyContinue | ForEach-Object { Stop-RestoreVM -Id $_.Id -ErrorAction SilentlyContinue }
    Remove-Item -LiteralPath $Work, $env:RESTORETOOLS_VM_STATE, $env:RESTORETOOLS_VM_SNAPSHOTS -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'The restore VM over virtio-serial (the default without vhost-vsock)' {
    BeforeAll {
        $script:S = Start-RestoreVM -Image @{ xport = $Img } -New -TimeoutSeconds 120 -IdleTimeoutSeconds 300
        $script:Vm = Get-RestoreVM | Where-Object Id -eq $S.VmId
    }
    AfterAll { if ($Vm) { Stop-RestoreVM -Id $Vm.Id -ErrorAction SilentlyContinue } }

    It 'uses virtio-serial ports, exposed as sockets in the VM folder, and no network' {
        Test-Path -LiteralPath /dev/vhost-vsock | Should -BeFalse   # this host: auto means virtio-serial
        $Vm.Transport | Should -Be 'virtio-serial'
        $Vm.Endpoint | Should -Be "virtio-serial:$($Vm.StateDir)"
        $S.Transport | Should -Be 'virtio-serial'
        @(Get-ChildItem -LiteralPath $Vm.StateDir -Filter 'port-*.sock').Count | Should -Be 8
        $cmdline = Get-Content -LiteralPath (Join-Path $Vm.StateDir 'qemu.cmdline') -Raw
        $cmdline | Should -Match 'virtserialport'
        $cmdline | Should -Not -Match 'netdev'
    }

    It 'copies a 24 MiB file out byte for byte (sha256)' {
        $dest = New-Item -ItemType Directory -Path (Join-Path $Work 'copy-vs') -Force
        Copy-RestoreItem -Session $S -Path /xport/raw/big.bin -Destination $dest.FullName
        (Get-FileHash -LiteralPath (Join-Path $dest.FullName 'big.bin') -Algorithm SHA256).Hash | Should -Be $BigHash
        Get-RestoreContent -Session $S -Path /xport/raw/docs/readme.txt | Should -Be 'transport test'
    }

    It 'serves two downloads at once, each on its own port' {
        $client = [RestoreTools.Contract.AgentClient]::WithTokenFile($Vm.Endpoint, $Vm.TokenFile)
        try {
            $a = $client.OpenRead('/xport/raw/big.bin')
            $b = $client.OpenRead('/xport/raw/big.bin', 1MB)
            try {
                # Both ports are locked by this process while both answers are open.
                $locked = foreach ($i in 0..7) {
                    try { [IO.File]::Open((Join-Path $Vm.StateDir "port-$i.lock"), 'OpenOrCreate', 'ReadWrite', 'None').Dispose(); $false } catch { $true }
                }
                @($locked | Where-Object { $_ }).Count | Should -BeGreaterOrEqual 2
                $hashes = Get-InterleavedHashes @($a, $b)
            }
            finally { $a.Dispose(); $b.Dispose() }
            $hashes[0] | Should -Be $BigHash
            $all = [IO.File]::ReadAllBytes("$Work/src/big.bin")
            $tail = [byte[]]::new($all.Length - 1MB)
            [Array]::Copy($all, 1MB, $tail, 0, $tail.Length)
            $hashes[1] | Should -Be ([Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($tail)))
            # A connection abandoned in the middle of an answer does not spoil the next one on its port.
            $c = $client.OpenRead('/xport/raw/big.bin')
            $null = $c.Read([byte[]]::new(4096), 0, 4096)
            $c.Dispose()
            foreach ($i in 1..3) { Get-RestoreContent -Session $S -Path /xport/raw/docs/readme.txt | Should -Be 'transport test' }
            @(Get-InterleavedHashes @($client.OpenRead('/xport/raw/big.bin')))[0] | Should -Be $BigHash
        }
        finally { $client.Dispose() }
    }

    It 'gives each connection its own answer, after many connections given up in the middle' {
        # Requests given up after a few ms leave their answers on the way, and their ports are taken
        # again at once: each connection takes only what comes after the agent's echo of its Open.
        $client = [RestoreTools.Contract.AgentClient]::WithTokenFile($Vm.Endpoint, $Vm.TokenFile)
        try {
            $given = 0
            foreach ($i in 1..60) {
                $hasty = [RestoreTools.Contract.AgentClient]::WithTokenFile($Vm.Endpoint, $Vm.TokenFile)
                $hasty.RequestTimeout = [TimeSpan]::FromMilliseconds(1 + $i % 25)
                try {
                    switch ($i % 3) {
                        0 { $null = $hasty.GetStatus() }
                        1 { $null = @($hasty.List('/xport/raw')) }
                        2 { $s = $hasty.OpenRead('/xport/raw/big.bin'); $null = $s.Read([byte[]]::new(100), 0, 100); $s.Dispose() }
                    }
                }
                catch { $given++ }
                finally { $hasty.Dispose() }
                if ($i % 4 -eq 0) {
                    @($client.GetDisks()).Name | Should -Be @('xport')
                    $client.GetStatus().Disks | Should -Be 1
                    @($client.List('/xport/raw/docs')).Name | Should -Be @('readme.txt')
                }
            }
            Write-Host "    $given of 60 hasty requests were given up"
            $given | Should -BeGreaterThan 0
            @(Get-InterleavedHashes @($client.OpenRead('/xport/raw/big.bin')))[0] | Should -Be $BigHash
        }
        finally { $client.Dispose() }
    }

    It 'resumes the boot snapshot over virtio-serial too' {
        $Vm.Boot | Should -Be 'snapshot'
        $again = Start-RestoreVM -Image @{ xport = $Img } -New -IdleTimeoutSeconds 300
        try {
            (Get-RestoreVM | Where-Object Id -eq $again.VmId).Boot | Should -Be 'snapshot'
            Get-RestoreContent -Session $again -Path /xport/raw/docs/readme.txt | Should -Be 'transport test'
        }
        finally { Stop-RestoreVM -Id $again.VmId }
    }
}

Describe 'The restore VM with virtio-serial switched off (-Transport tcp)' {
    It 'falls back to user-mode networking on a loopback port, and serves the same bytes' {
        $s = Start-RestoreVM -Image @{ xport = $Img } -New -Transport tcp -TimeoutSeconds 120 -IdleTimeoutSeconds 300
        try {
            $vm = Get-RestoreVM | Where-Object Id -eq $s.VmId
            $vm.Transport | Should -Be 'tcp'
            $vm.Endpoint | Should -Match '^http://127\.0\.0\.1:\d+$'
            @(Get-ChildItem -LiteralPath $vm.StateDir -Filter 'port-*.sock').Count | Should -Be 0
            $dest = New-Item -ItemType Directory -Path (Join-Path $Work 'copy-tcp') -Force
            Copy-RestoreItem -Session $s -Path /xport/raw/big.bin -Destination $dest.FullName
            (Get-FileHash -LiteralPath (Join-Path $dest.FullName 'big.bin') -Algorithm SHA256).Hash | Should -Be $BigHash
        }
        finally { Stop-RestoreVM -Id $s.VmId }
    }
}
