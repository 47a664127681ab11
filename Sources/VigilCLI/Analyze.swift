// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation
import VigilCore

/// `vigil analyze`: a report on a log a person reads in the terminal.
struct Analyze: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report what happened in a log: formats, templates, errors, bursts and silences.",
        discussion: """
            Reads FILE (or - for standard input), detects its format, joins stack traces into their record, \
            masks personal data and secrets, mines templates, and prints:

              - the detected format, line, record and template counts, time range
              - the most frequent templates, error and warning templates, the rarest templates
              - templates that first appear late in the input, and error templates that are new
              - activity over time as a sparkline, with bursts and silences, and errors per minute
              - steps out of order: a template followed, in its session (a request_id or trace_id, else a pid \
            or thread, else the whole file), by one that never followed it, or a session that ended where none \
            did, with what usually came instead

            Examples:
              vigil analyze /var/log/syslog
              journalctl -o short-iso --since -1h | vigil analyze -
              vigil analyze /var/log/containers/checkout-7d9f_shop_app-1a2b.log   # the kubelet's CRI file, unwrapped
              vigil analyze --json app.log | jq '.errorTemplates'
              vigil analyze odd-format.log --llm-url http://127.0.0.1:11434/v1   # a model reads an unknown header once
              vigil analyze app.log --template 'card declined for order <*>'      # your own template, <*> for any text
            """
    )

    @Flag(help: "Print the report as JSON instead of text.")
    var json = false

    @Option(help: "How many templates each list shows.")
    var top: Int = 10

    @Option(
        name: .customLong("template"),
        help: ArgumentHelp(
            "A template of your own: lines it matches whole (after masking, <*> taking any text) count under it.",
            discussion: "Repeat for several; the first that matches a line decides. The rest are mined as usual.",
            valueName: "TEXT"
        )
    )
    var templates: [String] = []

    @Flag(help: "Do not mask personal data and secrets in the report (masking is on by default).")
    var noPiiMasking = false

    @Argument(help: "The log file to read, or - for standard input.")
    var file: String

    @OptionGroup(title: "Formats Vigil cannot read (language-model fallback)")
    var formatHelp: FormatHelpOptions

    func validate() throws {
        guard self.top > 0 else { throw ValidationError("--top must be at least 1") }
        for template in self.templates {
            if let problem = TemplateMiner.problem(withPinned: template) {
                throw ValidationError("--template \"\(template)\": \(problem)")
            }
        }
    }

    func run() async throws {
        let learned = try await self.formatHelp.learnedHeaders(for: self.file, command: "analyze")
        var reader = try LineReader(path: self.file)
        var splitter = LogStreamSplitter(joinMultiline: true, learnedHeaders: learned, latest: reader.lastWritten)
        var analyzer = LogAnalyzer(listLength: self.top, pinnedTemplates: self.templates)
        let masker = self.noPiiMasking ? nil : PIIMasker()
        var progress = Progress(totalBytes: reader.totalBytes)
        func take(_ records: [LogRecord]) {
            for var record in records {
                if let masker { record.message = masker.mask(record.message) }
                analyzer.add(record)
            }
        }
        try reader.forEachLine { line, _, bytesRead in
            take(splitter.add(line))
            progress.update(bytes: bytesRead)
        }
        take(splitter.finish())
        progress.finish()
        if let name = splitter.formatName { analyzer.noteFormat(named: name) }
        let report = analyzer.report()
        var out = OutputStream()
        if self.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            out.write(String(decoding: try encoder.encode(report), as: UTF8.self) + "\n")
        } else {
            out.write(ReportRenderer(report: report, color: isTerminal(1)).render())
        }
        out.flush()
        if reader.truncatedLines > 0 {
            printError(
                "vigil analyze: \(VigilCore.Format.count(reader.truncatedLines, "line")) longer than 1 MiB \(reader.truncatedLines == 1 ? "was" : "were") cut at 1 MiB"
            )
        }
    }
}

/// A progress line on standard error for large inputs, shown only when standard error is a terminal.
struct Progress {
    private let totalBytes: Int?
    private let enabled: Bool
    private var lastUpdate = ContinuousClock.now
    private var shown = false

    /// Creates a progress indicator for an input of `totalBytes` (unknown for pipes).
    init(totalBytes: Int?) {
        self.totalBytes = totalBytes
        self.enabled = isTerminal(2) && (totalBytes ?? Int.max) > 8 << 20
    }

    /// Redraws at most four times a second.
    mutating func update(bytes: Int) {
        guard self.enabled else { return }
        let now = ContinuousClock.now
        guard now - self.lastUpdate > .milliseconds(250) else { return }
        self.lastUpdate = now
        self.shown = true
        let megabytes = Double(bytes) / 1_048_576
        var text = "\r\u{1B}[2Kreading: \(String(format: "%.0f", megabytes)) MiB"
        if let total = self.totalBytes, total > 0 {
            text += " of \(String(format: "%.0f", Double(total) / 1_048_576)) MiB (\(bytes * 100 / total)%)"
        }
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Clears the progress line.
    mutating func finish() {
        if self.shown { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
    }
}
