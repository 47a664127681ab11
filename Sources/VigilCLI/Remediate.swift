// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation
import VigilCore
import VigilServer

/// `vigil remediate`: check runbook files, and list, approve or reject the runs of a `vigil serve`.
struct Remediate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check runbooks; list, approve and reject what vigil serve wants to fix; read the audit log.",
        discussion: """
            vigil serve --runbooks FILE plans a run for each open incident a runbook fits, at the lower of the \
            runbook's level and --automation-level (default suggest: nothing runs until you raise both). Levels: \
            0 alert, 1 suggest, 2 approve, 3 auto-low-risk (high-risk runbooks still wait for approval), \
            4 auto-high-risk. A run that waits for approval is approved here or with \
            POST /api/v1/remediations/{id}/approve and the server's approval token. Every step, approval and \
            rejection is in the audit log.

              vigil remediate check runbooks.yaml --automation-level approve
              vigil remediate list --state awaiting_approval
              VIGIL_APPROVAL_TOKEN=… vigil remediate approve run-3f2a… --by alice
              vigil remediate reject run-3f2a… --by bob --reason "peak traffic, do it at 22:00"
              vigil remediate audit --limit 20
            """,
        subcommands: [Check.self, List.self, Approve.self, Reject.self, Audit.self]
    )

    /// Where the server is.
    struct ServerOptions: ParsableArguments {
        @Option(help: "The vigil serve to talk to (VIGIL_SERVER; default http://127.0.0.1:3100).")
        var server: String?

        var client: ServerClient {
            ServerClient(
                server: self.server ?? ProcessInfo.processInfo.environment["VIGIL_SERVER"] ?? "http://127.0.0.1:3100"
            )
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read a runbook file, report every mistake, and show what each runbook would do.",
            discussion: "Exit status 0 when the file is usable, 1 with the first mistake named when not."
        )

        @Argument(help: "The runbook file (YAML).")
        var file: String

        @Option(help: "The server's level to show the runbooks at (as vigil serve --automation-level).")
        var automationLevel: String = "suggest"

        func run() async throws {
            guard let level = AutomationLevel(name: self.automationLevel) else {
                throw ValidationError(
                    "--automation-level must be 0-4 or one of \(AutomationLevel.allCases.map(\.name).joined(separator: ", "))"
                )
            }
            guard let bytes = FileManager.default.contents(atPath: self.file) else {
                throw CLIError("\(self.file): cannot read the file")
            }
            let runbooks: [Runbook]
            do {
                runbooks = try RunbookFile.runbooks(yaml: String(decoding: bytes, as: UTF8.self), source: self.file)
            } catch {
                throw CLIError(error.description)
            }
            var out = OutputStream()
            out.write(
                "\(self.file): \(VigilCore.Format.count(runbooks.count, "runbook")), shown at server level \(level.name)\n"
            )
            for runbook in runbooks {
                out.write(Self.describe(runbook, serverLevel: level))
            }
            out.flush()
        }

        static func describe(_ runbook: Runbook, serverLevel: AutomationLevel) -> String {
            let effective = min(runbook.level, serverLevel)
            let mode = RemediationPlan.Mode(level: effective, risk: runbook.risk)
            let does =
                switch mode {
                case .notify: "people are told; no fix is named"
                case .suggest: "shown on the incident; a person runs it"
                case .awaitApproval: "runs after a person approves"
                case .runUnattended: "runs unattended"
                }
            var match: [String] = []
            if !runbook.match.services.isEmpty {
                match.append("root cause " + runbook.match.services.joined(separator: " or "))
            }
            if !runbook.match.triggers.isEmpty {
                match.append("set off by a " + runbook.match.triggers.map(\.rawValue).joined(separator: " or "))
            }
            if let symptom = runbook.match.symptom { match.append("a symptom mentions \"\(symptom)\"") }
            if runbook.match.minimumConfidence > 0 {
                match.append("confidence ≥ \(Int((runbook.match.minimumConfidence * 100).rounded())) %")
            }
            var text = "\n\(runbook.name) (\(runbook.risk.rawValue) risk, level \(runbook.level.name))"
            if !runbook.description.isEmpty { text += ": \(runbook.description)" }
            text += "\n  fits: \(match.isEmpty ? "every open incident" : match.joined(separator: ", "))\n"
            text += "  at \(effective.name): \(does)\n"
            for step in runbook.steps { text += "  step \(step.name): \(step.action.summary)\n" }
            if let verify = runbook.verify {
                text +=
                    "  check: \(verify.summary) (up to \(runbook.verifyAttempts) times, \(Int(runbook.verifyDelaySeconds)) s apart)\n"
            }
            if let rollback = runbook.rollback { text += "  rollback: \(rollback.summary)\n" }
            text +=
                "  guardrails: at most \(VigilCore.Format.count(runbook.maximumRunsPerHour, "run")) an hour, \(Int(runbook.cooldownSeconds)) s between runs on one service\n"
            return text
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The server's remediation runs, newest first.")

        @OptionGroup var options: ServerOptions

        @Option(help: "Only runs in this state (awaiting_approval, running, succeeded, failed, rolled_back, …).")
        var state: String?

        @Option(help: "text or json.")
        var output: String = "text"

        func run() async throws {
            guard ["text", "json"].contains(self.output) else { throw ValidationError("--output must be text or json") }
            let query = self.state.map { "?state=\(ServerClient.segment($0))" } ?? ""
            let runs = try await self.options.client.request(
                "/api/v1/remediations\(query)",
                as: [RemediationRunJSON].self
            )
            var out = OutputStream()
            if self.output == "json" {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                out.write(String(decoding: try encoder.encode(runs), as: UTF8.self) + "\n")
            } else if runs.isEmpty {
                out.write("no remediation runs\n")
            } else {
                for run in runs { out.write(run.text) }
            }
            out.flush()
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve a run that waits for approval; the server performs its steps.",
            discussion: "Needs the server's approval token in --token or VIGIL_APPROVAL_TOKEN."
        )

        @OptionGroup var options: ServerOptions
        @Argument(help: "The run's ID (vigil remediate list).") var run: String
        @Option(help: "Who approves (the audit log names them).") var by: String
        @Option(help: "The server's approval token (VIGIL_APPROVAL_TOKEN).") var token: String?

        func run() async throws {
            let decided = try await Remediate.decide(
                self.run,
                verb: "approve",
                body: ["by": self.by],
                token: self.token,
                client: self.options.client
            )
            var out = OutputStream()
            out.write(decided.text)
            out.flush()
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject a run that waits for approval.")

        @OptionGroup var options: ServerOptions
        @Argument(help: "The run's ID (vigil remediate list).") var run: String
        @Option(help: "Who rejects (the audit log names them).") var by: String
        @Option(help: "Why, for the audit log.") var reason: String = ""
        @Option(help: "The server's approval token (VIGIL_APPROVAL_TOKEN).") var token: String?

        func run() async throws {
            let decided = try await Remediate.decide(
                self.run,
                verb: "reject",
                body: ["by": self.by, "reason": self.reason],
                token: self.token,
                client: self.options.client
            )
            var out = OutputStream()
            out.write(decided.text)
            out.flush()
        }
    }

    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The remediation audit log, newest first.")

        @OptionGroup var options: ServerOptions
        @Option(help: "Only this run's records.") var run: String?
        @Option(help: "Records to show.") var limit: Int = 50

        func run() async throws {
            var query = "?limit=\(self.limit)"
            if let run = self.run { query += "&run=\(ServerClient.segment(run))" }
            let records = try await self.options.client.request("/api/v1/audit\(query)", as: [AuditRecordJSON].self)
            var out = OutputStream()
            for record in records {
                out.write(
                    "\(record.time)  \(record.run)  \(record.runbook) on \(record.service)  [\(record.state)] \(record.actor): \(record.what)\n"
                )
            }
            if records.isEmpty { out.write("the audit log is empty\n") }
            out.flush()
        }
    }

    static func decide(
        _ id: String,
        verb: String,
        body: [String: String],
        token: String?,
        client: ServerClient
    ) async throws -> RemediationRunJSON {
        guard let token = token ?? ProcessInfo.processInfo.environment["VIGIL_APPROVAL_TOKEN"] else {
            throw ValidationError("give the server's approval token with --token or VIGIL_APPROVAL_TOKEN")
        }
        return try await client.request(
            "/api/v1/remediations/\(ServerClient.segment(id))/\(verb)",
            as: RemediationRunJSON.self,
            method: "POST",
            json: body,
            token: token
        )
    }

}

extension RemediationRunJSON {
    /// A run for people: its state, runbook and service, why, its steps, and what happened last.
    var text: String {
        var text = "\(self.id)  \(self.state)  \(self.runbook) on \(self.service) (incident \(self.incident))\n"
        text += "  level \(self.level), \(self.risk) risk, \(self.mode.replacingOccurrences(of: "_", with: " "))"
        text += self.dryRun ? ", dry run\n" : "\n"
        for reason in self.reasons { text += "  why: \(reason)\n" }
        for step in self.steps { text += "  step \(step.name): \(step.action)\n" }
        if let entry = self.entries.last { text += "  last: \(entry.time) \(entry.actor): \(entry.what)\n" }
        return text
    }
}
