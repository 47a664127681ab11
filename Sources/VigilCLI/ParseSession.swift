// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import VigilCore

/// Runs lines through format detection and template mining, remembering each line's group for the final output.
struct ParseSession {
    private var splitter: LogStreamSplitter
    private var miner = TemplateMiner()
    private var groups: [TemplateMiner.GroupID] = []
    private var records: [LogRecord] = []
    private let keepRecords: Bool

    /// Creates a session; `contentOnly` treats every line as a bare message.
    init(contentOnly: Bool, keepRecords: Bool = false, learnedHeaders: [String: Int] = [:], latest: Timestamp? = nil) {
        self.splitter = LogStreamSplitter(contentOnly: contentOnly, learnedHeaders: learnedHeaders, latest: latest)
        self.keepRecords = keepRecords
    }

    /// Adds one input line.
    mutating func add(_ line: Span<UInt8>) {
        for record in self.splitter.add(line) { self.mine(record) }
    }

    /// Flushes lines held for format detection and consolidates the templates.
    mutating func finish() {
        for record in self.splitter.finish() { self.mine(record) }
        self.miner.consolidate()
    }

    private mutating func mine(_ record: LogRecord) {
        self.groups.append(self.miner.add(record.message, severity: record.severity, time: record.timestamp))
        if self.keepRecords { self.records.append(record) }
    }

    /// Writes `LineId,EventId,EventTemplate` rows.
    func writeCSV(to out: inout OutputStream) {
        out.write("LineId,EventId,EventTemplate\n")
        var cache: [UInt32: (String, String)] = [:]
        for (index, group) in self.groups.enumerated() {
            let (id, field) = self.describe(group, cache: &cache, csv: true)
            out.write("\(index + 1),\(id),")
            out.write(field)
            out.write("\n")
        }
    }

    /// Writes one JSON object per line.
    func writeJSON(to out: inout OutputStream) {
        var cache: [UInt32: (String, String)] = [:]
        for (index, group) in self.groups.enumerated() {
            let (id, text) = self.describe(group, cache: &cache)
            var object = "{\"line\":\(index + 1),\"template_id\":\(JSON.string(id)),\"template\":\(JSON.string(text))"
            if index < self.records.count {
                let record = self.records[index]
                let parameters =
                    WildcardPattern(text).captures(in: VariableMasker.normalizedSpacing(record.message)) ?? []
                object += ",\"parameters\":[\(parameters.map(JSON.string).joined(separator: ","))]"
                object +=
                    ",\"parameter_types\":[\(parameters.map { JSON.string(VariableKind.classify($0).rawValue) }.joined(separator: ","))]"
                if let time = record.timestamp { object += ",\"timestamp\":\(JSON.string(time.iso8601))" }
                if record.severity != .unknown { object += ",\"severity\":\(JSON.string(record.severity.name))" }
                for key in record.fields.keys.sorted() {
                    object += ",\(JSON.string(key)):\(JSON.string(record.fields[key]!))"
                }
                object += ",\"message\":\(JSON.string(record.message))"
            }
            out.write(object + "}\n")
        }
    }

    private func describe(
        _ group: TemplateMiner.GroupID,
        cache: inout [UInt32: (String, String)],
        csv: Bool = false
    ) -> (String, String) {
        if let known = cache[group.serial] { return known }
        let text = self.miner.templateText(of: group) ?? ""
        let result = (Template.id(for: text), csv ? CSV.field(text) : text)
        cache[group.serial] = result
        return result
    }
}

/// CSV field quoting (RFC 4180).
enum CSV {
    /// Quotes a field when it holds a comma, quote, CR or LF.
    static func field(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { return text }
        var quoted = "\""
        for scalar in text.unicodeScalars {
            if scalar == "\"" { quoted += "\"\"" } else { quoted.unicodeScalars.append(scalar) }
        }
        return quoted + "\""
    }
}

/// Minimal JSON string encoding.
enum JSON {
    /// Encodes a string as a JSON string literal.
    static func string(_ text: String) -> String { "\"" + TextEscaping.jsonEscaped(text) + "\"" }
}
