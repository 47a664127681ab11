// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import VigilCore

/// Decodes Alertmanager's webhook (payload `"version": "4"`): `alerts[]` with `status`, `labels`,
/// `annotations`, `startsAt`, `endsAt`, `fingerprint`.
public enum AlertmanagerWebhook {
    /// The most alerts one request may carry.
    public static let maximumAlerts = 10_000

    /// Decodes a body.
    public static func decode(_ body: [UInt8]) throws(IngestError) -> [Alert] {
        let document = try JSONParser.parse(body)
        guard case .object = document else { throw IngestError("Alertmanager webhook: expected a JSON object") }
        if let version = document["version"]?.string, version != "4" {
            throw IngestError("Alertmanager webhook: payload version \(version) is not supported (expected 4)")
        }
        guard let items = document["alerts"]?.array else {
            throw IngestError("Alertmanager webhook: expected an \"alerts\" array")
        }
        guard items.count <= maximumAlerts else {
            throw IngestError("Alertmanager webhook: \(items.count) alerts; the limit is \(maximumAlerts)")
        }
        var alerts: [Alert] = []
        for (index, item) in items.enumerated() {
            guard let labelMembers = item["labels"]?.members else {
                throw IngestError("Alertmanager webhook: alerts[\(index)] has no labels object")
            }
            var labels: [SeriesKey.Label] = []
            for (name, value) in labelMembers {
                guard let text = value.string else {
                    throw IngestError("Alertmanager webhook: alerts[\(index)].labels.\(name) is not a string")
                }
                labels.append(.init(name, text))
            }
            func label(_ names: [String]) -> String? {
                for name in names {
                    if let value = labels.first(where: { $0.name == name })?.value, !value.isEmpty { return value }
                }
                return nil
            }
            guard let statusText = item["status"]?.string, let status = Alert.Status(rawValue: statusText) else {
                throw IngestError("Alertmanager webhook: alerts[\(index)].status must be firing or resolved")
            }
            guard let startsText = item["startsAt"]?.string, let startsAt = Self.time(startsText) else {
                throw IngestError("Alertmanager webhook: alerts[\(index)].startsAt is not an RFC 3339 time")
            }
            // Alertmanager sends 0001-01-01T00:00:00Z as endsAt of firing alerts: no end.
            let endsAt = item["endsAt"]?.string.flatMap(Self.time).flatMap { $0.nanoseconds > 0 ? $0 : nil }
            let fingerprint =
                item["fingerprint"]?.string
                ?? Template.id(
                    for: labels.sorted { $0.name < $1.name }.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
                )
            let summary = item["annotations"]?["summary"]?.string ?? item["annotations"]?["description"]?.string
            alerts.append(
                Alert(
                    fingerprint: fingerprint,
                    name: label(["alertname"]) ?? "unnamed",
                    service: label(["service", "service_name", "job", "app", "application", "namespace"]) ?? "unknown",
                    status: status,
                    labels: labels,
                    summary: summary.map { String($0.prefix(4096)) },
                    startsAt: startsAt,
                    endsAt: status == .resolved ? endsAt : nil
                )
            )
        }
        return alerts
    }

    static func time(_ text: String) -> Timestamp? {
        let bytes = Array(text.utf8)
        if text.hasPrefix("0001-01-01") { return Timestamp(nanoseconds: 0) }
        return TimestampParser.parse(bytes.span)
    }
}
