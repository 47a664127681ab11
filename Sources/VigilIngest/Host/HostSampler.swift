// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import VigilCore

#if canImport(Glibc)
import Glibc
#endif

/// Samples the machine Vigil runs on from `/proc`: CPU busy and I/O-wait ratios, memory, load, disk and network
/// throughput, and root filesystem usage. Rates need two samples, so the first call returns only the levels.
public struct HostSampler: Sendable {
    /// The `host` label on every series.
    public let host: String
    /// Where `/proc` is (tests point it at captured files).
    public let procRoot: String
    private var previous: (time: Timestamp, cpu: ProcStats.CPUTimes?, net: (UInt64, UInt64)?, disk: (UInt64, UInt64)?)?

    /// Creates a sampler for the local host.
    public init(host: String = HostSampler.hostname(), procRoot: String = "/proc") {
        self.host = host
        self.procRoot = procRoot
    }

    /// Reads every source once and returns the samples, stamped `time`.
    public mutating func sample(at time: Timestamp) -> [MetricPoint] {
        var points: [MetricPoint] = []
        func add(_ name: String, _ value: Double, _ extra: [SeriesKey.Label] = []) {
            guard value.isFinite else { return }
            let key = SeriesKey(name: name, labels: [SeriesKey.Label("host", self.host)] + extra)
            points.append(MetricPoint(series: key, time: time, value: value))
        }
        let cpu = readFile(self.procRoot + "/stat").flatMap(ProcStats.cpuTimes)
        let net = readFile(self.procRoot + "/net/dev").flatMap(ProcStats.networkBytes)
        let disk = readFile(self.procRoot + "/diskstats").flatMap(ProcStats.diskBytes)
        if let memory = readFile(self.procRoot + "/meminfo").flatMap(ProcStats.memory) {
            add("host_memory_used_ratio", 1 - memory.available / memory.total)
            add("host_memory_available_bytes", memory.available)
        }
        if let load = readFile(self.procRoot + "/loadavg").flatMap(ProcStats.loadAverage) {
            add("host_load1", load.0)
            add("host_load5", load.1)
            add("host_load15", load.2)
        }
        var stats = statvfs()
        if statvfs("/", &stats) == 0, stats.f_blocks > 0 {
            let used = 1 - Double(stats.f_bavail) / Double(stats.f_blocks)
            add("host_filesystem_used_ratio", used, [SeriesKey.Label("mountpoint", "/")])
        }
        if let previous = self.previous {
            let seconds = time.seconds - previous.time.seconds
            if seconds > 0 {
                if let now = cpu, let before = previous.cpu {
                    let busy = Double(now.busy &- before.busy)
                    let total = busy + Double(now.idle &- before.idle)
                    if total > 0 {
                        add("host_cpu_busy_ratio", busy / total)
                        add("host_cpu_iowait_ratio", Double(now.ioWait &- before.ioWait) / total)
                    }
                }
                if let now = net, let before = previous.net {
                    add("host_network_receive_bytes_per_second", Double(now.0 &- before.0) / seconds)
                    add("host_network_transmit_bytes_per_second", Double(now.1 &- before.1) / seconds)
                }
                if let now = disk, let before = previous.disk {
                    add("host_disk_read_bytes_per_second", Double(now.0 &- before.0) / seconds)
                    add("host_disk_written_bytes_per_second", Double(now.1 &- before.1) / seconds)
                }
            }
        }
        self.previous = (time, cpu, net, disk)
        return points
    }

    /// This machine's host name.
    public static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Reads a whole (small) file, or `nil` if it cannot be read.
public func readFile(_ path: String, limit: Int = 4 << 20) -> [UInt8]? {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while bytes.count < limit {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { break }
        bytes.append(contentsOf: chunk[0..<count])
    }
    return bytes
}
