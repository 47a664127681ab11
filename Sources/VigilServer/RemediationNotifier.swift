// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Synchronization
import VigilCore
import VigilRemediation

/// Tells the incident webhooks what remediation runs do: a fix named for an incident (alert and suggest levels), a
/// run waiting for approval, and how each run ended. Steps in between are in the audit log, not in chat.
final class RemediationNotifier: Sendable {
    let remediator: Remediator
    let webhooks: [URL]
    /// The state each run was last announced in.
    private let announced = Mutex<[String: String]>([:])

    /// The states worth a message.
    static let newsworthy: Set<RemediationRun.State> = [
        .notified, .suggested, .awaitingApproval, .succeeded, .failed, .rolledBack, .rejected, .simulated,
    ]

    init(remediator: Remediator, webhooks: [URL]) {
        self.remediator = remediator
        self.webhooks = webhooks
    }

    /// Posts one message per run whose newsworthy state changed since the last call; a failed delivery is reported
    /// through `onError` and retried on the next call. Returns how many were sent.
    @discardableResult
    func notify(onError: @Sendable (String) -> Void) async -> Int {
        var sent = 0
        for run in await self.remediator.runs(limit: 1_000).reversed() where Self.newsworthy.contains(run.state) {
            guard self.announced.withLock({ $0[run.id] }) != run.state.rawValue else { continue }
            let body = Self.notification(run)
            var delivered = true
            for url in self.webhooks {
                do { try await IncidentService.post(body, to: url) } catch {
                    delivered = false
                    onError("remediation webhook \(url.absoluteString): \(error)")
                }
            }
            if delivered {
                self.announced.withLock { $0[run.id] = run.state.rawValue }
                sent += 1
            }
        }
        return sent
    }

    /// `{"text", "event": "remediation", "run"}`: Slack shows the text.
    static func notification(_ run: RemediationRun) -> [UInt8] {
        let plan = run.plan
        var text = "[remediation] \(plan.runbook) on \(plan.service) (incident \(plan.incident)): "
        switch run.state {
        case .notified: text += "a runbook fits; level alert, nothing will run"
        case .suggested:
            text +=
                "suggested, for a person to run: "
                + plan.steps.map { $0.action.summary }.joined(separator: "; ")
        case .awaitingApproval:
            text +=
                "waiting for approval (\(plan.risk.rawValue) risk, level \(plan.level.name)): vigil remediate approve \(run.id) --by NAME"
        default: text += run.state.rawValue.replacingOccurrences(of: "_", with: " ")
        }
        if let last = run.entries.last, run.state != .awaitingApproval { text += " — \(last.what)" }
        struct Payload: Encodable {
            var text: String
            var event: String
            var run: RemediationRunJSON
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let payload = Payload(text: text, event: "remediation", run: RemediationRunJSON(run))
        return Array((try? encoder.encode(payload)) ?? Data())
    }
}
