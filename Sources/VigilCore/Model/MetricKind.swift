// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// What a metric measures, from its name: it decides which direction hurts and how much a move means.
enum MetricKind: Sendable {
    /// Success rate, availability, hit ratio, idle or free capacity: a fall hurts.
    case quality
    /// Request counts, throughput, network bytes and system calls: they move with users and with every
    /// other service's trouble, and rarely start an incident.
    case traffic
    /// What a service sees of the services it calls (client-side latency): a rise points at a callee.
    case outbound
    /// The machine a service runs on (node or host CPU, memory, network): shared with every other service
    /// there, so it moves with a noisy neighbour as much as with the service.
    case host
    /// CPU, memory, disk, sockets and threads: a rise hurts, and it is the service's own (it does not travel
    /// up from a callee).
    case resource
    /// Counts of events from logs and traces (error lines, never-seen templates, failed spans): a rise hurts,
    /// and they vary at least like a Poisson count.
    case events
    /// Everything else (latency, errors): a rise hurts.
    case other

    /// Names of what a service holds itself; disk I/O counts in bytes but is not traffic.
    static let resourceWords = ["cpu", "mem", "disk", "filesystem", "fs_", "blkio", "socket", "thread", "open_fds"]

    init(_ metric: String) {
        // A counter read as its rate (`rate(http_requests_total)`) measures what the counter counts.
        let unwrapped =
            metric.hasPrefix("rate(") && metric.hasSuffix(")") ? metric.dropFirst(5).dropLast() : Substring(metric)
        let name = unwrapped.lowercased()
        if IncidentData.eventCounts.contains(metric) {
            self = .events
        } else if ["node", "host", "machine"].contains(where: { name.hasPrefix($0) }) {
            self = .host
        } else if ["success", "availab", "idle", "free", "hit"].contains(where: { name.contains($0) }) {
            self = .quality
        } else if name.contains("client") && (name.contains("latency") || name.contains("duration")) {
            self = .outbound
        } else if Self.resourceWords.contains(where: { name.contains($0) }) {
            self = .resource
        } else if ["drop", "error", "fail", "retrans"].contains(where: { name.contains($0) }) {
            // Dropped packets and failed requests hurt, however much they count like traffic.
            self = .other
        } else if [
            "request", "lod", "workload", "throughput", "_ops", "qps", "rps", "bytes", "receive", "transmit",
            "syscall", "packets",
        ].contains(where: {
            name.contains($0)
        }) {
            self = .traffic
        } else {
            self = .other
        }
    }

    /// Whether a move of this kind of metric, up or down, may be trouble: a service's own resource use that
    /// falls, or a quality that rises, is spare capacity, not a symptom. Anything else may hurt either way:
    /// traffic that falls is users who cannot get through, and a host metric may count what is used or what is
    /// left.
    func hurts(rising: Bool) -> Bool {
        switch self {
        case .resource: rising
        case .quality: !rising
        default: true
        }
    }

    /// Whether a finding about `subject` (a series, `name{labels}`) that went from `expected` to `observed` is spare
    /// capacity: a resource that fell or a quality that rose.
    static func isSpareCapacity(subject: String, observed: Double, expected: Double) -> Bool {
        observed != expected && !MetricKind(String(subject.prefix { $0 != "{" })).hurts(rising: observed > expected)
    }
}
