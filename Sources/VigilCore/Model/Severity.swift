// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public enum Severity: Int, Sendable, Hashable, Comparable, CaseIterable, Codable {
    case unknown = 0
    case trace
    case debug
    case info
    case notice
    case warning
    case error
    case critical

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The lowercase name used in reports and JSON (`"warning"`).
    public var name: String {
        switch self {
        case .unknown: "unknown"
        case .trace: "trace"
        case .debug: "debug"
        case .info: "info"
        case .notice: "notice"
        case .warning: "warning"
        case .error: "error"
        case .critical: "critical"
        }
    }

    /// Whether a record of this severity counts toward error rates (error and above).
    public var isError: Bool { self >= .error }

    /// Recognises a level word such as `WARN`, `warning`, `E`, `err` or `FATAL`, ignoring case.
    ///
    /// Single letters are the Android/klog codes (V D I W E F). Returns `nil` for anything else.
    public init?(levelWord bytes: Span<UInt8>) {
        guard let severity = Self.levelWords.value(for: bytes) else { return nil }
        self = severity
    }

    /// Recognises a level word given as a string (see ``init(levelWord:)-(Span<UInt8>)``).
    public init?(levelWord text: String) {
        let bytes = Array(text.utf8)
        self.init(levelWord: bytes.span)
    }

    private static let levelWords = PackedWordTable<Severity>(
        [
            (.trace, ["v", "trace", "trc", "verbose", "finest", "finer"]),
            (.debug, ["d", "debug", "dbg", "fine"]),
            (.info, ["i", "info", "inf", "information", "informational", "config"]),
            (.notice, ["n", "notice", "note"]),
            (.warning, ["w", "warn", "warning", "wrn"]),
            (.error, ["e", "error", "err", "severe", "failure"]),
            (.critical, ["f", "fatal", "crit", "critical", "alert", "emerg", "emergency", "panic", "ftl"]),
        ].flatMap { severity, spellings in spellings.map { ($0, severity) } }
    )

    /// Maps a syslog severity code (0 emergency … 7 debug) to a severity.
    public init(syslogCode: Int) {
        switch syslogCode {
        case ...2: self = .critical
        case 3: self = .error
        case 4: self = .warning
        case 5: self = .notice
        case 6: self = .info
        default: self = .debug
        }
    }
}
