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
    /// Whether a run waiting for approval is posted with Approve and Reject buttons (a Slack signing secret is set).
    let slackButtons: Bool
    /// The state each run was last announced in.
    private let announced = Mutex<[String: String]>([:])

    /// The states worth a message.
    static let newsworthy: Set<RemediationRun.State> = [
        .notified, .suggested, .awaitingApproval, .succeeded, .failed, .rolledBack, .rejected, .simulated,
    ]

    init(remediator: Remediator, webhooks: [URL], store: (any Store)? = nil, slackButtons: Bool = false) {
        self.remediator = remediator
        self.webhooks = webhooks
        self.store = store
        self.slackButtons = slackButtons
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
            let body = Self.notification(run, slackButtons: self.slackButtons)
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

    /// The `action_id`s of the buttons; their `value` is the run ID.
    static let approveAction = "vigil_approve"
    static let rejectAction = "vigil_reject"

    /// `{"text", "event": "remediation", "run"}`: Slack shows the text. With `slackButtons`, a run waiting for
    /// approval also carries Slack `blocks`: the text, and Approve (behind a confirmation) and Reject buttons.
    static func notification(_ run: RemediationRun, slackButtons: Bool = false) -> [UInt8] {
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
            var blocks: [SlackBlock]?
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var payload = Payload(text: text, event: "remediation", run: RemediationRunJSON(run))
        if slackButtons && run.state == .awaitingApproval {
            let steps = plan.steps.map { $0.action.summary }.joined(separator: "; ")
            payload.blocks = [
                SlackBlock(section: "\(text)\nSteps: \(steps)"),
                SlackBlock(
                    actions: "vigil-\(run.id)",
                    [
                        SlackBlock.Button(
                            label: "Approve",
                            style: "primary",
                            actionID: Self.approveAction,
                            value: run.id,
                            confirm: .init(
                                title: .plain("Run \(plan.runbook.prefix(60))?"),
                                text: .plain(String("On \(plan.service): \(steps)".prefix(290))),
                                confirm: .plain("Approve"),
                                deny: .plain("Cancel")
                            )
                        ),
                        SlackBlock.Button(
                            label: "Reject",
                            style: "danger",
                            actionID: Self.rejectAction,
                            value: run.id,
                            confirm: nil
                        ),
                    ]
                ),
            ]
        }
        return Array((try? encoder.encode(payload)) ?? Data())
    }
}

/// A Slack Block Kit block: a section of text, or a row of buttons.
struct SlackBlock: Encodable {
    struct Text: Encodable {
        var type: String
        var text: String

        static func plain(_ text: String) -> Text { Text(type: "plain_text", text: text) }
    }

    struct Confirmation: Encodable {
        var title: Text
        var text: Text
        var confirm: Text
        var deny: Text
    }

    struct Button: Encodable {
        var type = "button"
        var text: Text
        var style: String
        var actionID: String
        var value: String
        var confirm: Confirmation?

        init(label: String, style: String, actionID: String, value: String, confirm: Confirmation?) {
            self.text = .plain(label)
            self.style = style
            self.actionID = actionID
            self.value = value
            self.confirm = confirm
        }

        enum CodingKeys: String, CodingKey {
            case type, text, style, value, confirm
            case actionID = "action_id"
        }
    }

    var type: String
    var text: Text?
    var blockID: String?
    var elements: [Button]?

    /// A section of Markdown text, at most 2,900 characters (Slack takes 3,000); `&`, `<` and `>` are escaped, so a
    /// service name cannot mention `<!channel>`.
    init(section text: String) {
        self.type = "section"
        let escaped = text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
        self.text = Text(type: "mrkdwn", text: String(escaped.prefix(2_900)))
    }

    /// A row of buttons.
    init(actions blockID: String, _ buttons: [Button]) {
        self.type = "actions"
        self.blockID = blockID
        self.elements = buttons
    }

    enum CodingKeys: String, CodingKey {
        case type, text, elements
        case blockID = "block_id"
    }
}
