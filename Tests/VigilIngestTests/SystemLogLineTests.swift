// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilCore
import VigilIngest

@Suite struct SystemLogLineTests {
    @Test func readsAJournalExportLine() throws {
        let line = """
            {"__REALTIME_TIMESTAMP":"1700000000123456","PRIORITY":"3","SYSLOG_IDENTIFIER":"sshd","MESSAGE":"error: PAM: Authentication failure for root"}
            """
        let (key, entry) = try #require(SystemLogLine.journal(Array(line.utf8)))
        #expect(key == StreamKey(service: "sshd", source: "journald"))
        #expect(entry.time.nanoseconds == 1_700_000_000_123_456_000)
        #expect(String(decoding: entry.line, as: UTF8.self) == "ERROR error: PAM: Authentication failure for root")
    }

    @Test func readsAKernelRecord() throws {
        let boot = Timestamp(nanoseconds: 1_000_000_000_000)
        let record = Array("3,742,5000000,-;EXT4-fs error (device vda): bad block\n SUBSYSTEM=block\n".utf8)
        let (sequence, entry) = try #require(SystemLogLine.kernel(record, bootTime: boot))
        #expect(sequence == 742)
        #expect(entry.time.nanoseconds == 1_000_000_000_000 + 5_000_000_000)
        #expect(String(decoding: entry.line, as: UTF8.self) == "ERROR EXT4-fs error (device vda): bad block")
        #expect(SystemLogLine.kernel(Array("garbage".utf8), bootTime: boot) == nil)
    }
}

@Suite struct ProcStatsTests {
    @Test func parsesCapturedProcFiles() throws {
        let stat = Array("cpu  100 5 50 1000 20 1 2 3 0 0\ncpu0 50 2 25 500 10 0 1 1 0 0\n".utf8)
        let cpu = try #require(ProcStats.cpuTimes(stat))
        #expect(cpu.busy == 100 + 5 + 50 + 1 + 2 + 3 && cpu.idle == 1020 && cpu.ioWait == 20)
        let meminfo = Array("MemTotal:        2048 kB\nMemFree:  100 kB\nMemAvailable:    512 kB\n".utf8)
        let memory = try #require(ProcStats.memory(meminfo))
        #expect(memory.total == 2048 * 1024 && memory.available == 512 * 1024)
        let load = try #require(ProcStats.loadAverage(Array("2.52 1.81 1.37 2/87 26186\n".utf8)))
        #expect(load.0 == 2.52 && load.2 == 1.37)
        let net = Array(
            """
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                lo:   20764     553    0    0    0     0          0         0    20764     553    0    0    0     0       0          0
              eth0: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0

            """.utf8
        )
        let bytes = try #require(ProcStats.networkBytes(net))
        #expect(bytes.received == 1000 && bytes.sent == 2000)
        let disks = Array(
            """
               7       0 loop0 5 0 100 0 0 0 0 0 0 0 0
             254       0 vda 10 0 8 0 20 0 16 0 0 0 0
             254       1 vda1 10 0 8 0 20 0 16 0 0 0 0
             259       0 nvme0n1 1 0 2 0 1 0 4 0 0 0 0
             259       1 nvme0n1p1 1 0 2 0 1 0 4 0 0 0 0

            """.utf8
        )
        let disk = try #require(ProcStats.diskBytes(disks))
        #expect(disk.read == (8 + 2) * 512 && disk.written == (16 + 4) * 512)
    }

    @Test func samplerReadsThisMachine() async throws {
        var sampler = HostSampler(host: "test")
        let first = sampler.sample(at: Timestamp(nanoseconds: 1_000_000_000))
        try await Task.sleep(for: .milliseconds(300))  // CPU time advances in 10 ms ticks
        let second = sampler.sample(at: Timestamp(nanoseconds: 2_000_000_000))
        let names = Set(second.map(\.series.name))
        #expect(first.contains { $0.series.name == "host_memory_used_ratio" })
        #expect(names.isSuperset(of: ["host_cpu_busy_ratio", "host_memory_used_ratio", "host_load1"]))
        #expect(second.allSatisfy { $0.series.label("host") == "test" && $0.value.isFinite })
    }
}
