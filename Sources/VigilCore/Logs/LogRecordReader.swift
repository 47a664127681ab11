// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Turns one line into a ``LogRecord`` according to a detected ``LogFormat``.
public struct LogRecordReader: Sendable {
    /// The format lines are read with.
    public let format: LogFormat
    /// The year given to dates that carry none (syslog's `Jun 14 15:16:01`), unless `latest` is known.
    public var defaultYear: Int64
    /// When the log was last written (a file's modification time, or now for a stream): a date without a year
    /// takes the year that puts it no more than a day after this, so December's lines read in January keep their
    /// year.
    public let latest: Timestamp?
    /// The civil year of `latest`.
    private let latestYear: Int64

    /// Creates a reader for a format.
    public init(format: LogFormat, defaultYear: Int64 = 1970, latest: Timestamp? = nil) {
        self.format = format
        self.defaultYear = defaultYear
        self.latest = latest
        let seconds = latest?.wholeSeconds ?? 0
        let day: Int64 = 86_400
        self.latestYear = CivilDate.fromDays(seconds >= 0 ? seconds / day : (seconds - day + 1) / day).year
    }

    /// The time a timestamp's text names, a missing year taken from `latest` (or `defaultYear`), and a missing
    /// date too: a time of day alone (logback's default `16:50:01.757`) falls on the day of `latest`, or the day
    /// before when it would come more than an hour after it (a log read at 02:00 wrote 23:00 yesterday), and on
    /// 1 January of `defaultYear` when `latest` is unknown.
    private func time(_ text: Span<UInt8>) -> Timestamp? {
        guard let latest = self.latest else {
            return TimestampParser.parse(text, defaultYear: self.defaultYear)
                ?? TimestampParser.timeOfDay(text).map {
                    Timestamp(nanoseconds: CivilDate.days(year: self.defaultYear, month: 1, day: 1) * Self.day + $0)
                }
        }
        guard let time = TimestampParser.parse(text, defaultYear: self.latestYear) else {
            guard let sinceMidnight = TimestampParser.timeOfDay(text) else { return nil }
            let midnight = latest.nanoseconds - Self.modulo(latest.nanoseconds, Self.day)
            let sameDay = midnight + sinceMidnight
            return Timestamp(nanoseconds: sameDay > latest.nanoseconds + Self.day / 24 ? sameDay - Self.day : sameDay)
        }
        guard time.nanoseconds > latest.nanoseconds + Self.day else { return time }
        // Too late for this year: last year's (a date that names its own year parses the same again).
        return TimestampParser.parse(text, defaultYear: self.latestYear - 1)
    }

    /// A day in nanoseconds.
    static let day: Int64 = 86_400_000_000_000

    /// `value` modulo `divisor`, never negative (times before 1970 included).
    static func modulo(_ value: Int64, _ divisor: Int64) -> Int64 {
        let remainder = value % divisor
        return remainder < 0 ? remainder + divisor : remainder
    }

    /// Reads a line, or returns `nil` when it does not fit the format (a continuation line, or foreign text).
    public func record(from line: Span<UInt8>, lineNumber: Int) -> LogRecord? {
        var record: LogRecord?
        switch self.format {
        case .plain:
            record = LogRecord(message: line.string(from: 0, to: line.count), lineNumber: lineNumber)
        case .json:
            record = KeyValueLine.json(line).map { self.structured($0, lineNumber: lineNumber, separator: "=") }
        case .logfmt:
            record = KeyValueLine.logfmt(line).map { self.structured($0, lineNumber: lineNumber, separator: "=") }
        case .pythonLogging:
            record = PythonLoggingLine.parse(line).map { parsed in
                LogRecord(
                    severity: parsed.severity,
                    fields: ["component": line.string(from: parsed.logger.lowerBound, to: parsed.logger.upperBound)],
                    message: line.string(from: parsed.messageStart, to: line.count),
                    lineNumber: lineNumber
                )
            }
        case .syslog5424:
            record = Syslog5424.parse(line, lineNumber: lineNumber)
        case .header(let grammar):
            record = grammar.split(line).map { self.headed(line, $0.fields, $0.messageStart, lineNumber) }
        }
        if var found = record, found.severity == .unknown {
            found.severity = Self.inferSeverity(found.message)
            record = found
        }
        return record
    }

    /// The severity of a line in a header format and where its message starts, as ``record(from:lineNumber:)``
    /// would give them, without decoding its timestamp, its fields or its message: all that counting errors and
    /// mining templates need, at a fraction of the cost. Nil for other formats, and for a line that does not fit.
    public func severityAndMessageStart(of line: Span<UInt8>) -> (severity: Severity, messageStart: Int)? {
        guard case .header(let grammar) = self.format, let split = grammar.split(line) else { return nil }
        var severity = Severity.unknown
        for field in split.fields where field.kind == .level {
            let (start, end) =
                line[field.start] == UInt8(ascii: "[") ? (field.start + 1, field.end - 1) : (field.start, field.end)
            severity = Severity(levelWord: line.extracting(start..<end)) ?? severity
        }
        if severity == .unknown, let first = split.fields.first, first.kind == .time, first.end - first.start == 5,
            ByteClass.isLetter(line[first.start])
        {
            severity = Severity(levelWord: line.extracting(first.start..<(first.start + 1))) ?? .unknown
        }
        if severity == .unknown {
            for field in split.fields {
                guard let level = Self.terminatorLevel(line, field) else { continue }
                severity = level
                break
            }
        }
        if severity == .unknown {
            severity = line.extracting(split.messageStart..<line.count).withUnsafeBufferPointer(Self.inferSeverity)
        }
        return (severity, split.messageStart)
    }

    /// The level a `component:` field names instead of a component (PostgreSQL's `ERROR:`, `FATAL:`): a level word
    /// of three letters or more before the colon.
    static func terminatorLevel(_ line: Span<UInt8>, _ field: HeaderField) -> Severity? {
        guard field.kind == .terminator, field.end - field.start >= 4, line[field.end - 1] == UInt8(ascii: ":") else {
            return nil
        }
        return Severity(levelWord: line.extracting(field.start..<(field.end - 1)))
    }

    /// Builds the record of a line that does not fit the format: the whole line is the message.
    public func fallbackRecord(from line: Span<UInt8>, lineNumber: Int) -> LogRecord {
        let message = line.string(from: 0, to: line.count)
        return LogRecord(severity: Self.inferSeverity(message), message: message, lineNumber: lineNumber)
    }

    // MARK: - Structured lines

    private func structured(_ pairs: [(key: String, value: String)], lineNumber: Int, separator: String) -> LogRecord {
        var record = LogRecord(message: "", lineNumber: lineNumber)
        var rest: [String] = []
        var message: String?
        for (key, value) in pairs {
            if record.timestamp == nil && StructuredKeys.time.contains(key) {
                let bytes = Array(value.utf8)
                if let time = self.time(bytes.span) {
                    record.timestamp = time
                    continue
                }
            }
            if record.severity == .unknown && StructuredKeys.level.contains(key),
                let level = Severity(levelWord: value) ?? StructuredKeys.level(number: value)
            {
                record.severity = level
                continue
            }
            if message == nil && StructuredKeys.message.contains(key) {
                message = value
                continue
            }
            if record.fields["service"] == nil && StructuredKeys.service.contains(key) {
                record.fields["service"] = value
                continue
            }
            if record.fields.count < 32 { record.fields[key] = value }
            rest.append(key + separator + value)
        }
        record.message = message ?? rest.joined(separator: " ")
        return record
    }

    // MARK: - Text headers

    private func headed(
        _ line: Span<UInt8>,
        _ fields: [HeaderField],
        _ messageStart: Int,
        _ lineNumber: Int
    ) -> LogRecord {
        var record = LogRecord(message: line.string(from: messageStart, to: line.count), lineNumber: lineNumber)
        var runs: [[UInt8]] = []
        var inRun = false
        var continuesCompactDate = false
        var epochCandidate: (Int, Int)?
        for (index, field) in fields.enumerated() {
            let length = field.end - field.start
            let opensCompactDate =
                field.kind == .number && (length == 6 || length == 8) && index + 1 < fields.count
                && fields[index + 1].kind == .number && fields[index + 1].end - fields[index + 1].start == 6
            let isTimeLike =
                field.kind == .time || opensCompactDate || continuesCompactDate
                || (inRun && field.kind == .number && Self.isDayOrYear(line, field))
            continuesCompactDate = opensCompactDate
            if isTimeLike {
                if !inRun { runs.append([]) }
                if inRun { runs[runs.count - 1].append(0x20) }
                inRun = true
                let bracketed = line[field.start] == UInt8(ascii: "[")
                for position in (bracketed ? field.start + 1 : field.start)..<(bracketed ? field.end - 1 : field.end) {
                    runs[runs.count - 1].append(line[position])
                }
                continue
            }
            inRun = isTimeLike
            switch field.kind {
            case .level:
                let (start, end) =
                    line[field.start] == UInt8(ascii: "[") ? (field.start + 1, field.end - 1) : (field.start, field.end)
                record.severity = Severity(levelWord: line.extracting(start..<end)) ?? record.severity
            case .terminator:
                if Self.terminatorLevel(line, field) == nil {
                    self.readComponent(line.string(from: field.start, to: field.end - 1), into: &record)
                }
            case .bracket:
                record.fields["thread"] = line.string(from: field.start + 1, to: field.end - 1)
            case .address:
                record.fields["client"] = line.string(from: field.start, to: field.end)
            case .number:
                if length >= 10 && epochCandidate == nil { epochCandidate = (field.start, field.end) }
                if !isTimeLike { record.fields["f\(index + 1)"] = line.string(from: field.start, to: field.end) }
            case .word:
                let name = index + 1 < fields.count && fields[index + 1].kind == .terminator ? "host" : "f\(index + 1)"
                record.fields[name] = line.string(from: field.start, to: field.end)
            case .time, .separator, .quoted:
                break
            }
        }
        // An epoch number is unambiguous (UTC); otherwise the run with the most detail wins.
        if let (start, end) = epochCandidate {
            record.timestamp = self.time(line.extracting(start..<end))
        }
        if record.timestamp == nil {
            for run in runs.sorted(by: { $0.count > $1.count }) {
                if let time = self.time(run.span) {
                    record.timestamp = time
                    break
                }
            }
        }
        // klog: `I1010` carries the level in its first letter.
        if record.severity == .unknown, let first = fields.first, first.kind == .time, first.end - first.start == 5,
            ByteClass.isLetter(line[first.start])
        {
            record.severity = Severity(levelWord: line.extracting(first.start..<(first.start + 1))) ?? .unknown
        }
        if record.severity == .unknown {
            for field in fields {
                guard let level = Self.terminatorLevel(line, field) else { continue }
                record.severity = level
                break
            }
        }
        return record
    }

    /// Whether a number field next to a time field is a day (`14`) or a year (`2005`) rather than a pid.
    private static func isDayOrYear(_ line: Span<UInt8>, _ field: HeaderField) -> Bool {
        let length = field.end - field.start
        if length <= 2 { return true }
        return length == 4
            && (line[field.start] == UInt8(ascii: "1") && line[field.start + 1] == UInt8(ascii: "9")
                || line[field.start] == UInt8(ascii: "2") && line[field.start + 1] == UInt8(ascii: "0"))
    }

    /// Splits `sshd[24200]` into component and pid; klog's `file.go:12]` becomes the source location.
    private func readComponent(_ text: String, into record: inout LogRecord) {
        var name = Substring(text)
        if name.hasSuffix("]"), let open = name.lastIndex(of: "[") {
            let inside = name[name.index(after: open)..<name.index(before: name.endIndex)]
            if !inside.isEmpty && inside.utf8.allSatisfy(ByteClass.isDigit) {
                record.fields["pid"] = String(inside)
                name = name[..<open]
            } else if open == name.startIndex {
                name = inside
            } else {
                name = name.dropLast()
            }
        }
        record.fields["component"] = String(name)
    }

    /// Guesses a level from words in a message that declared none, or from its HTTP status (``AccessLogStatus``).
    static func inferSeverity(_ message: String) -> Severity {
        var message = message
        return message.withUTF8(Self.inferSeverity)
    }

    /// ``inferSeverity(_:)`` of a message's bytes. An access log's status speaks first: a 200 for
    /// `/api/errors` is no error.
    static func inferSeverity(_ bytes: UnsafeBufferPointer<UInt8>) -> Severity {
        if let status = AccessLogStatus.severity(of: Span(_unsafeElements: bytes)) { return status }
        var result = Severity.unknown
        var start = 0
        var index = 0
        while index <= bytes.count {
            if index < bytes.count && ByteClass.isLetter(bytes[index]) {
                index += 1
                continue
            }
            if index - start >= 4 && index - start <= 9,
                let severity = messageWords.value(
                    for: Span(_unsafeElements: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                )
            {
                result = max(result, severity)
            }
            index += 1
            start = index
        }
        return result
    }

    private static let messageWords = PackedWordTable<Severity>(
        [
            (.critical, ["fatal", "panic", "critical"]),
            (
                .error,
                [
                    "error", "errors", "exception", "failed", "failure", "fail", "refused", "denied", "timeout",
                    "traceback",
                ]
            ),
            (.warning, ["warn", "warning"]),
        ].flatMap { severity, spellings in spellings.map { ($0, severity) } }
    )
}
