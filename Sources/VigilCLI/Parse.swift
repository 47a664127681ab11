// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import VigilCore

/// `vigil parse`: label every line of a log with its template.
struct Parse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Label every line of a log with its mined template.",
        discussion: """
            Reads FILE (or - for standard input), detects its format, splits each line's header off, mines \
            templates from the messages and prints one row per input line, in order, once the whole input has \
            been read, so every line carries its template's final form.

            Output formats:
              csv   LineId,EventId,EventTemplate (variables written <*>),
                    the Loghub benchmark contract
              json  a JSON object per line: template, typed parameters, time,
                    level, header fields and message

            Examples:
              vigil parse --output csv app.log > templates.csv
              vigil parse --content --output csv messages.txt     # each line is a bare message
              journalctl -o cat | vigil parse --output json -
            """
    )

    enum Output: String, ExpressibleByArgument, CaseIterable {
        case csv
        case json
    }

    @Flag(help: "Treat each line as a bare message: no header to detect or split off.")
    var content = false

    @Option(help: "Output format: csv or json.")
    var output: Output = .csv

    @Argument(help: "The log file to read, or - for standard input.")
    var file: String

    @OptionGroup(title: "Formats Vigil cannot read (language-model fallback)")
    var formatHelp: FormatHelpOptions

    func run() async throws {
        let learned =
            self.content ? [:] : try await self.formatHelp.learnedHeaders(for: self.file, command: "parse")
        var reader = try LineReader(path: self.file)
        var session = ParseSession(
            contentOnly: self.content,
            keepRecords: self.output == .json,
            learnedHeaders: learned,
            latest: reader.lastWritten
        )
        try reader.forEachLine { line, _, _ in session.add(line) }
        session.finish()
        var out = OutputStream()
        switch self.output {
        case .csv: session.writeCSV(to: &out)
        case .json: session.writeJSON(to: &out)
        }
        out.flush()
        if reader.truncatedLines > 0 {
            printError(
                "vigil parse: \(VigilCore.Format.count(reader.truncatedLines, "line")) longer than 1 MiB \(reader.truncatedLines == 1 ? "was" : "were") cut at 1 MiB"
            )
        }
    }
}
