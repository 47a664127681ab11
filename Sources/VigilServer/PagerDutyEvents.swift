// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import VigilCore

/// Incidents as PagerDuty Events API v2 events: an incident that opens triggers a PagerDuty alert, and resolving
/// it resolves the alert (the same `dedup_key`). Changes in between are not sent: PagerDuty would only log them
/// on the alert, and an alert storm changes an incident many times a minute.
enum PagerDutyEvents {
    /// The Events API v2 endpoint.
    static let defaultURL = "https://events.pagerduty.com/v2/enqueue"

    /// The event for an incident announcement (`opened` or `resolved`), or nil for one PagerDuty is not told.
    static func event(_ incident: Incident, announcement: String, routingKey: String) -> [UInt8]? {
        let dedupKey = "vigil-\(incident.id)"
        struct Resolve: Encodable {
            var routingKey: String
            var eventAction = "resolve"
            var dedupKey: String
        }
        struct Details: Encodable {
            var incident: String
            var narrative: String
            var services: [String]
            var rootCauses: [String]
            var impactChain: [String]
            var trigger: String?
            var firstAction: String?
            var symptoms: Int
        }
        struct Payload: Encodable {
            var summary: String
            var source = "vigil"
            var severity: String
            var timestamp: String
            var component: String?
            var `class`: String
            var customDetails: Details
        }
        struct Trigger: Encodable {
            var routingKey: String
            var eventAction = "trigger"
            var dedupKey: String
            var client = "Vigil"
            var payload: Payload
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        switch announcement {
        case "resolved":
            return Array((try? encoder.encode(Resolve(routingKey: routingKey, dedupKey: dedupKey))) ?? Data())
        case "opened":
            let root = incident.rootCauses.first?.service
            let summary =
                "\(root.map { "\($0): " } ?? "")\(VigilCore.Format.count(incident.services.count, "service")), \(VigilCore.Format.count(incident.symptomCount, "symptom")): "
                + incident.narrative
            let trigger = Trigger(
                routingKey: routingKey,
                dedupKey: dedupKey,
                payload: Payload(
                    summary: String(summary.prefix(1_024)),
                    severity: incident.services.count >= 3 ? "critical" : "error",
                    timestamp: incident.opened.iso8601,
                    component: root,
                    class: incident.trigger.map { "change: \($0.kind.rawValue)" } ?? "incident",
                    customDetails: Details(
                        incident: incident.id,
                        narrative: incident.narrative,
                        services: incident.services,
                        rootCauses: incident.rootCauses.prefix(3).map {
                            "\($0.service) (confidence \(Int(($0.confidence * 100).rounded())) %)"
                        },
                        impactChain: incident.impactChain,
                        trigger: incident.trigger.map { "\($0.kind.rawValue) of \($0.service) at \($0.time.iso8601)" },
                        firstAction: incident.recommendation.map { "\($0.action): \($0.reason)" },
                        symptoms: incident.symptomCount
                    )
                )
            )
            return Array((try? encoder.encode(trigger)) ?? Data())
        default:
            return nil
        }
    }
}
