// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Synchronization
import VigilCore
import VigilRemediation
import VigilStorage

/// Tells the incident webhooks what remediation runs do: a fix named for an incident (alert and suggest levels), a
/// run waiting for approval, and how each run ended. Steps in between are in the audit log, not in chat.
final class RemediationNotifier: Sendable {
    let remediator: Remediator
    let webhooks: [URL]
    /// Where what was announced is kept, beside the incidents' announcements (run IDs start with `run-`).
    let store: (any Store)?
    /// The state each run was last announced in.
    private let announced = Mutex<[String: String]>([:])

    /// The states worth a message.
    static let newsworthy: Set<RemediationRun.State> = [
        .notified, .suggested, .awaitingApproval, .succeeded, .failed, .rolledBack, .rejected, .simulated,
    ]

    init(remediator: Remediator, webhooks: [URL], store: (any Store)? = nil) {
        self.remediator = remediator
        self.webhooks = webhooks
        self.store = store
    }

    /// Posts one message per run whose newsworthy state changed since the last call; a failed delivery is reported
    /// through `onError` and retried on the next call. Returns how many were sent. `reload` first reads what was
    /// announced from the store (when this server starts to act), so a run taken back after a restart, or from
    /// the worker that led before, is not announced again in the same state.
    @discardableResult
    func notify(reload: Bool = false, onError: @Sendable (String) -> Void) async -> Int {
        if reload, let store = self.store {
            do {
                let told = try store.announcements().filter { $0.key.hasPrefix("run-") }
                self.announced.withLock { $0.merge(told) { _, stored in stored } }
            } catch {
                onError("reading what remediation runs were announced failed: \(error)")
            }
        }
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
                do { try self.store?.recordAnnouncements([run.id: run.state.rawValue], at: Clock.now()) } catch {
                    onError("recording the announcement of \(run.id) failed: \(error)")
                }
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
