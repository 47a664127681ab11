// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Parsers for the Linux `/proc` files host monitoring reads. Each takes the file's bytes; reading is the
/// caller's job, so every parser is tested on captured text.
public enum ProcStats {
    /// Cumulative CPU time from the `cpu` line of `/proc/stat`, in clock ticks.
    public struct CPUTimes: Sendable, Equatable {
        /// Ticks spent doing work (user, nice, system, irq, softirq, steal).
        public var busy: UInt64
        /// Ticks spent idle, waiting for I/O included.
        public var idle: UInt64
        /// Ticks spent waiting for I/O.
        public var ioWait: UInt64
    }

    /// Reads the aggregate `cpu` line of `/proc/stat`.
    public static func cpuTimes(_ text: [UInt8]) -> CPUTimes? {
        for line in lines(text) where line.starts(with: "cpu ".utf8) {
            let fields = numbers(line.dropFirst(4))
            guard fields.count >= 5 else { return nil }
            let idle = fields[3] &+ fields[4]
            var busy: UInt64 = 0
            for (index, value) in fields.prefix(8).enumerated() where index != 3 && index != 4 { busy &+= value }
            return CPUTimes(busy: busy, idle: idle, ioWait: fields[4])
        }
        return nil
    }

    /// `MemTotal` and `MemAvailable` of `/proc/meminfo`, in bytes.
    public static func memory(_ text: [UInt8]) -> (total: Double, available: Double)? {
        var total: Double?
        var available: Double?
        for line in lines(text) {
            if line.starts(with: "MemTotal:".utf8) {
                total = numbers(line.dropFirst(9)).first.map { Double($0) * 1024 }
            } else if line.starts(with: "MemAvailable:".utf8) {
                available = numbers(line.dropFirst(13)).first.map { Double($0) * 1024 }
            }
        }
        guard let total, let available, total > 0 else { return nil }
        return (total, available)
    }

    /// The 1-, 5- and 15-minute load averages of `/proc/loadavg`.
    public static func loadAverage(_ text: [UInt8]) -> (Double, Double, Double)? {
        let words = text.split(separator: 0x20).prefix(3).map { Double(String(decoding: $0, as: UTF8.self)) }
        guard words.count == 3, let one = words[0], let five = words[1], let fifteen = words[2] else { return nil }
        return (one, five, fifteen)
    }

    /// Bytes received and sent by every interface but loopback, from `/proc/net/dev`.
    public static func networkBytes(_ text: [UInt8]) -> (received: UInt64, sent: UInt64)? {
        var received: UInt64 = 0
        var sent: UInt64 = 0
        var seen = false
        for line in lines(text) {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = line[..<colon].filter { $0 != 0x20 }
            guard !name.isEmpty, name != Array("lo".utf8) else { continue }
            let fields = numbers(line[(colon + 1)...])
            guard fields.count >= 9 else { continue }
            received &+= fields[0]
            sent &+= fields[8]
            seen = true
        }
        return seen ? (received, sent) : nil
    }

    /// Bytes read and written by whole disks (not partitions, loop or RAM devices), from `/proc/diskstats`.
    public static func diskBytes(_ text: [UInt8]) -> (read: UInt64, written: UInt64)? {
        var read: UInt64 = 0
        var written: UInt64 = 0
        var seen = false
        for line in lines(text) {
            let words = line.split(separator: 0x20)
            guard words.count >= 10 else { continue }
            let name = String(decoding: words[2], as: UTF8.self)
            guard !name.hasPrefix("loop"), !name.hasPrefix("ram"), !name.hasPrefix("dm-"), !isPartition(name)
            else { continue }
            guard let sectorsRead = UInt64(String(decoding: words[5], as: UTF8.self)),
                let sectorsWritten = UInt64(String(decoding: words[9], as: UTF8.self))
            else { continue }
            read &+= sectorsRead &* 512
            written &+= sectorsWritten &* 512
            seen = true
        }
        return seen ? (read, written) : nil
    }

    /// `sda1`, `vda2`, `nvme0n1p1` are partitions; `sda`, `vda`, `nvme0n1` are disks.
    static func isPartition(_ name: String) -> Bool {
        if name.hasPrefix("nvme") || name.hasPrefix("mmcblk") { return name.dropFirst(4).contains("p") }
        return name.last?.isNumber == true
    }

    static func lines(_ text: [UInt8]) -> [ArraySlice<UInt8>] {
        text.split(separator: 0x0A, omittingEmptySubsequences: true)
    }

    static func numbers(_ text: ArraySlice<UInt8>) -> [UInt64] {
        var values: [UInt64] = []
        var current: UInt64 = 0
        var inNumber = false
        for byte in text {
            if byte &- 0x30 < 10 {
                current = current &* 10 &+ UInt64(byte - 0x30)
                inNumber = true
            } else if inNumber {
                values.append(current)
                current = 0
                inNumber = false
            } else if byte != 0x20 && byte != 0x09 {
                break
            }
        }
        if inNumber { values.append(current) }
        return values
    }
}
