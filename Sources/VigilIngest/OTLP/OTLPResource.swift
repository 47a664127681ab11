// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import VigilCore

/// What OTLP's resource attributes say about where telemetry came from, mapped to Vigil's labels:
/// `service.name` → service, `service.namespace` / `k8s.namespace.name` → namespace, `k8s.pod.name` → pod,
/// `host.name` → host.
public struct OTLPResource: Sendable, Equatable {
    public var service: String?
    public var namespace: String?
    public var pod: String?
    public var host: String?

    public init() {}

    mutating func take(_ key: String, _ value: String) {
        switch key {
        case "service.name": self.service = value
        case "service.namespace": self.namespace = value
        case "k8s.namespace.name": if self.namespace == nil { self.namespace = value }
        case "k8s.pod.name": self.pod = value
        case "host.name": self.host = value
        default: break
        }
    }

    /// The labels every series of this resource carries.
    var labels: [SeriesKey.Label] {
        var labels: [SeriesKey.Label] = []
        if let service { labels.append(.init("service", service)) }
        if let namespace { labels.append(.init("namespace", namespace)) }
        if let pod { labels.append(.init("pod", pod)) }
        if let host { labels.append(.init("host", host)) }
        return labels
    }

    /// The service name, or OpenTelemetry's own default when the SDK had none.
    var serviceName: String { self.service ?? "unknown_service" }
}

/// OTLP request kinds, for messages.
enum OTLPSignal: String {
    case logs, metrics, traces
}

extension OTLP {
    /// The name of a monotonic sum with cumulative temporality: a counter, named `…_total` as OpenTelemetry's
    /// Prometheus exporters name it, so that it is judged by its rate like any Prometheus counter.
    static func counterName(_ name: String) -> String {
        name.hasSuffix("_total") ? name : name + "_total"
    }

    /// OTLP's `AGGREGATION_TEMPORALITY_CUMULATIVE`.
    static let cumulative: UInt64 = 2

    /// A Prometheus-style name: every character outside `[A-Za-z0-9_:]` becomes `_` (`http.server.duration` →
    /// `http_server_duration`); a leading digit gets a `_` in front.
    static func metricName(_ name: String) -> String {
        var bytes = Array(name.utf8)
        for index in bytes.indices {
            switch bytes[index] {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: ":"):
                break
            default: bytes[index] = UInt8(ascii: "_")
            }
        }
        if let first = bytes.first, first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9") {
            bytes.insert(UInt8(ascii: "_"), at: 0)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// OTLP severity numbers to the level words Vigil's log parser knows.
    static func severityText(_ number: Int) -> String? {
        switch number {
        case 1...4: "TRACE"
        case 5...8: "DEBUG"
        case 9...12: "INFO"
        case 13...16: "WARN"
        case 17...20: "ERROR"
        case 21...24: "FATAL"
        default: nil
        }
    }

    /// A log line from a record: the level first, as log files write it, then the body.
    static func line(severityText: String, severityNumber: Int, body: String) -> [UInt8] {
        let level = severityText.isEmpty ? Self.severityText(severityNumber) : severityText
        guard let level, !body.hasPrefix(level) else { return Array(body.utf8) }
        return Array(level.utf8) + [UInt8(ascii: " ")] + Array(body.utf8)
    }
}
