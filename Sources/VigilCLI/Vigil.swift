// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser

/// The `vigil` command: a self-hosted AIOps engine for logs, metrics, traces, alerts and changes.
@main
struct Vigil: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Turn logs, metrics, traces, alerts and change events into a few explained incidents.",
        discussion: """
            Start with `vigil analyze FILE` for a report on a log file, or `vigil parse FILE` to label every \
            line with its template.
            """,
        version: "0.1.0",
        subcommands: [Analyze.self, Detect.self, Parse.self]
    )
}
