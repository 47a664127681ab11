// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser

/// The `vigil` command: a self-hosted AIOps engine for logs, metrics, traces, alerts and changes.
@main
struct Vigil: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Turn logs, metrics, traces, alerts and change events into a few explained incidents.",
        discussion: """
            Run `vigil serve` to watch this machine and receive telemetry, and open http://127.0.0.1:3100/ for \
            its web UI; `vigil ask "what is wrong?"` asks it in plain English. `vigil analyze FILE` reports on a \
            log file, and `vigil parse FILE` labels every line with its template.
            """,
        version: "0.1.0",
        subcommands: [
            Serve.self, Analyze.self, Detect.self, Forecast.self, Parse.self, RCA.self, Ask.self, Rightsize.self,
            Remediate.self,
            BenchIngest.self,
        ]
    )
}
