// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import VigilCore

/// Renders a ``LogReport`` as text for a terminal.
struct ReportRenderer {
    let report: LogReport
    /// Whether to use ANSI colours (only on a terminal).
    let color: Bool

    private static let sparks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// The whole report.
    func render() -> String {
        var text = ""
        let r = self.report
        text += self.heading("Log analysis")
        text += "format      \(r.formats.joined(separator: ", "))\n"
        text += "lines       \(r.lines) in \(r.records) records, \(r.templateCount) templates\n"
        if let range = r.timeRange { text += "time        \(range[0]) → \(range[1])\n" }
        if r.recordsWithoutTime > 0 && r.timeRange != nil {
            text += "            \(r.recordsWithoutTime) records carry no readable time\n"
        }
        text += "levels      \(r.errorRecords) error, \(r.warningRecords) warning"
        if let rate = r.errorsPerMinute {
            let shown =
                rate >= 0.1 || rate == 0
                ? String(format: "%.2f errors/min", rate) : String(format: "%.2f errors/h", rate * 60)
            text += " · \(shown), peak \(r.peakErrorsPerMinute ?? 0) in one minute"
        }
        text += "\n"
        text += self.timeline()
        text += self.list("Top templates", r.topTemplates)
        text += self.list("Error templates", r.errorTemplates, showErrors: true)
        text += self.list(
            "New error templates (first seen after the first fifth)",
            r.newErrorTemplates,
            showFirst: true
        )
        text += self.list("Warning templates", r.warningTemplates)
        text += self.list("Templates first seen late (last quarter)", r.lateTemplates, showFirst: true)
        text += self.list("Rare templates", r.rareTemplates)
        text += self.sequences()
        return text
    }

    /// Steps never seen in their session before, each with what usually came.
    private func sequences() -> String {
        guard !self.report.sequenceAnomalies.isEmpty else { return "" }
        var text = self.heading("Out of order (a step never seen in its session before)")
        for step in self.report.sequenceAnomalies {
            let session = step.session.map { "session by \($0)" } ?? "the stream"
            text += "line \(step.line) (\(session)\(step.time.map { ", \($0)" } ?? "")):\n"
            text += "    \(Self.clip(step.previous, 100))\n  → \(Self.clip(step.next, 100))\n"
            let usual = step.usual.map { "\"\(Self.clip($0.template, 60))\" \($0.count)×" }
            text += "    it was followed \(step.followers)× before, by \(usual.joined(separator: ", "))\n"
        }
        return text
    }

    private func heading(_ title: String) -> String {
        self.color ? "\n\u{1B}[1m\(title)\u{1B}[0m\n" : "\n\(title)\n"
    }

    private func timeline() -> String {
        let t = self.report.timeline
        guard !t.counts.isEmpty else { return "" }
        var text = self.heading(
            t.axis == "time"
                ? "Activity (\(Self.duration(t.bucketWidth)) per bar)"
                : "Activity (\(Int(t.bucketWidth)) records per bar; no timestamps)"
        )
        let peak = max(t.counts.max() ?? 1, 1)
        let bars = String(t.counts.map { count in count == 0 ? " " : Self.sparks[min(7, count * 8 / (peak + 1))] })
        text += "records  \(bars)  max \(peak)\n"
        if t.errors.contains(where: { $0 > 0 }) {
            let errorPeak = max(t.errors.max() ?? 1, 1)
            let errorBars = String(
                t.errors.map { count in count == 0 ? " " : Self.sparks[min(7, count * 8 / (errorPeak + 1))] }
            )
            text +=
                "errors   \(self.color ? "\u{1B}[31m" : "")\(errorBars)\(self.color ? "\u{1B}[0m" : "")  max \(errorPeak)\n"
        }
        if let start = t.start { text += "         from \(start)\n" }
        for burst in self.report.bursts {
            let what = burst.kind == "errors" ? "error records" : "records"
            let span = Self.duration(Double(burst.buckets) * t.bucketWidth)
            text += "burst    \(burst.start ?? "bucket \(burst.bucket)") for \(span): \(burst.count) \(what)"
            text += " (peak \(burst.peak) per bar, typical \(String(format: "%.0f", burst.typical)))"
            if let top = burst.topTemplate { text += ", mostly \"\(Self.clip(top, 60))\"" }
            text += "\n"
        }
        for silence in self.report.silences {
            text +=
                "silence  \(silence.from) → \(silence.to): \(Self.duration(silence.seconds)) without records (typical gap \(Self.duration(silence.typicalGapSeconds)))\n"
        }
        return text
    }

    private func list(
        _ title: String,
        _ lines: [LogReport.TemplateLine],
        showErrors: Bool = false,
        showFirst: Bool = false
    ) -> String {
        guard !lines.isEmpty else { return "" }
        var text = self.heading(title)
        for line in lines {
            var row = String(line.count).leftPadded(to: 8)
            if showErrors { row += " (\(line.errors) err)" }
            row += "  \(line.id.prefix(8))  \(Self.clip(line.template, 110))"
            if showFirst { row += "  [first: \(line.firstSeen ?? "record \(line.firstRecord)")]" }
            text += row + "\n"
        }
        return text
    }

    static func clip(_ text: String, _ width: Int) -> String {
        let single = text.replacingOccurrences(of: "\n", with: " ⏎ ")
        return single.count <= width ? single : String(single.prefix(width - 1)) + "…"
    }

    static func duration(_ seconds: Double) -> String {
        switch seconds {
        case ..<1: String(format: "%.0f ms", seconds * 1000)
        case ..<60: String(format: "%.0f s", seconds)
        case ..<3600: String(format: "%.0f min", seconds / 60)
        case ..<86_400: String(format: "%.1f h", seconds / 3600)
        default: String(format: "%.1f d", seconds / 86_400)
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        self.count >= width ? self : String(repeating: " ", count: width - self.count) + self
    }
}
