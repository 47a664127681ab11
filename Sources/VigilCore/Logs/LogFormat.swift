// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// The layout of a log stream, detected from a sample of its lines.
public enum LogFormat: Sendable, Hashable {
    /// One JSON object per line.
    case json
    /// `key=value` pairs (logfmt).
    case logfmt
    /// RFC 5424 syslog (`<165>1 2003-10-11T22:14:15.003Z host app - ID47 [sd] msg`).
    case syslog5424
    /// A text header learned from the data, then the message (syslog 3164, log4j, klog, Apache, …).
    case header(HeaderGrammar)
    /// Python's `logging.basicConfig()` default, `LEVEL:logger:message` (``PythonLoggingLine``).
    case pythonLogging
    /// No recognisable structure: each line is the message.
    case plain

    /// A short name for reports (`json`, `header(time time level component:)`).
    public var name: String {
        switch self {
        case .json: "json"
        case .logfmt: "logfmt"
        case .syslog5424: "syslog-rfc5424"
        case .header(let grammar): "text header [\(grammar.summary)]"
        case .pythonLogging: "python logging (LEVEL:logger:message)"
        case .plain: "plain text"
        }
    }

    /// Share of a sample that must fit a structured format for it to be chosen.
    static let majority = 0.8

    /// Detects the format of a sample of lines (empty lines are ignored). A sample that would read as plain text
    /// takes the header learned for its layout, if `learned` holds one (``FormatLearning``: signature → header
    /// field count).
    public static func detect(sample: [[UInt8]], learned: [String: Int]) -> LogFormat {
        let format = Self.detect(sample: sample)
        guard format == .plain, !learned.isEmpty, let signature = FormatLearning.signature(of: sample),
            let fields = learned[signature],
            let grammar = try? FormatLearning.grammar(headerFields: fields, sample: sample)
        else { return format }
        return .header(grammar)
    }

    /// Detects the format of a sample of lines (empty lines are ignored).
    public static func detect(sample: [[UInt8]]) -> LogFormat {
        let lines = sample.filter { line in line.contains { !ByteClass.isSpace($0) } }
        guard !lines.isEmpty else { return .plain }
        let needed = Int((majority * Double(lines.count)).rounded(.up))
        if lines.count(where: { KeyValueLine.json($0.span) != nil }) >= needed { return .json }
        if lines.count(where: { Syslog5424.parse($0.span, lineNumber: 0) != nil }) >= needed { return .syslog5424 }
        if lines.count(where: { KeyValueLine.logfmt($0.span).map(Self.looksLikeLogfmt) ?? false }) >= needed {
            return .logfmt
        }
        // Tracebacks interleave Python's lines; the layout is distinctive enough that most of the other lines will do.
        let heads = lines.filter { !MultilineRule.isContinuation($0.span) && !MultilineRule.startsException($0.span) }
        if !heads.isEmpty, heads.count(where: { PythonLoggingLine.parse($0.span) != nil }) * 10 >= heads.count * 6 {
            return .pythonLogging
        }
        if let grammar = HeaderGrammar.learn(from: lines) {
            let fitting = lines.count(where: { grammar.split($0.span) != nil })
            if Double(fitting) >= 0.3 * Double(lines.count) { return .header(grammar) }
        }
        return .plain
    }

    private static func looksLikeLogfmt(_ pairs: [(key: String, value: String)]) -> Bool {
        pairs.count >= 3
            || pairs.contains { StructuredKeys.message.contains($0.key) || StructuredKeys.level.contains($0.key) }
    }
}

/// The key spellings structured logs use for the fields Vigil cares about.
enum StructuredKeys {
    static let time: Set<String> = [
        "time", "timestamp", "ts", "@timestamp", "datetime", "date", "t", "eventTime", "timeUnixNano", "asctime",
        "__REALTIME_TIMESTAMP",
    ]
    /// Level keys; a number there is a syslog code (0–7: journald's `PRIORITY`, GELF) or a pino/bunyan level
    /// (10–60), see ``level(number:)``.
    static let level: Set<String> = [
        "level", "lvl", "severity", "loglevel", "log.level", "levelname", "severityText", "severity_text", "log_level",
        "PRIORITY", "priority",
    ]
    static let message: Set<String> = [
        "msg", "message", "log", "text", "body", "event", "@message", "short_message", "MESSAGE",
    ]
    static let service: Set<String> = [
        "service", "service.name", "service_name", "app", "application", "logger", "logger_name", "component",
        "source", "name", "module", "SYSLOG_IDENTIFIER",
    ]

    /// The level a number in a level key means: 0–7 a syslog code (0 emergency … 7 debug), 8–60 a pino or bunyan
    /// level (10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal); nil for anything else.
    static func level(number text: String) -> Severity? {
        guard let value = Int(text), (0...60).contains(value) else { return nil }
        switch value {
        case 0...7: return Severity(syslogCode: value)
        case ...10: return .trace
        case ...20: return .debug
        case ...30: return .info
        case ...40: return .warning
        case ...50: return .error
        default: return .critical
        }
    }
}
