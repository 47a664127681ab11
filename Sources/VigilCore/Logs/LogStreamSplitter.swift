// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Turns the lines of one log stream into records: detects the stream's format from its first lines, splits
/// each line's header off, and optionally joins multi-line records (stack traces, Go panics) into one.
///
/// A stream whose first line is in the CRI container log format (``CRILogLine``, the kubelet's files under
/// `/var/log/containers`) is unwrapped first: the application's lines are what the format is detected on, a
/// long line the runtime split (`P`) is joined again, and a record whose own header names no time takes the
/// runtime's.
///
/// Lines are held back only while the format is being learned (the first ``sampleSize`` lines); after that
/// every line is handed on at once.
public struct LogStreamSplitter: Sendable {
    /// How many leading lines are used to detect the format.
    public let sampleSize: Int
    /// Whether continuation lines are appended to the record before them.
    public let joinsMultiline: Bool
    /// The detected format, once known.
    public private(set) var format: LogFormat?
    /// The detected format's name, said to come wrapped when the stream's lines were CRI container log lines
    /// (`cri-wrapped json`).
    public var formatName: String? {
        self.format.map { self.wrappedInCRI == true ? "cri-wrapped \($0.name)" : $0.name }
    }
    /// Lines that did not fit the detected format and were read as bare messages.
    public private(set) var unfittingLines = 0

    /// Header layouts learned for formats the detector reads as plain text (``FormatLearning``).
    public let learnedHeaders: [String: Int]
    /// When the stream was last written, which places dates that carry no year (``LogRecordReader/latest``).
    public let latest: Timestamp?
    private var reader: LogRecordReader?
    private var sample: [[UInt8]] = []
    private var lineNumber = 0
    private var open: LogRecord?
    private var openHasIndentedTail = false
    /// Whether the stream's lines come wrapped in the CRI format, decided on its first line.
    private var wrappedInCRI: Bool?
    /// The parts of a long line the runtime split, until its end (`F`) comes; at most
    /// ``MultilineRule/maximumBytes`` of it are kept, as for a joined record.
    private var partial: [UInt8] = []
    /// The runtime's time of each line in `sample`, when wrapped, and when it arrived.
    private var sampleTimes: [(time: Timestamp?, arrival: Timestamp?)] = []
    /// When the first part of `partial` arrived.
    private var partialArrival: Timestamp?

    /// Creates a splitter.
    ///
    /// - Parameters:
    ///   - contentOnly: Treat every line as a bare message (no format detection).
    ///   - joinMultiline: Join continuation lines into the record before them.
    ///   - sampleSize: How many leading lines decide the format.
    ///   - learnedHeaders: Header layouts learned for plain-text formats, by ``FormatLearning/signature(of:)``.
    ///   - latest: When the stream was last written (a file's modification time): dates without a year fall at
    ///     most a day after it. Without it they fall in 1970.
    public init(
        contentOnly: Bool = false,
        joinMultiline: Bool = false,
        sampleSize: Int = 200,
        learnedHeaders: [String: Int] = [:],
        latest: Timestamp? = nil
    ) {
        self.sampleSize = max(1, sampleSize)
        self.learnedHeaders = learnedHeaders
        self.latest = latest
        self.joinsMultiline = joinMultiline
        if contentOnly {
            self.format = .plain
            self.reader = LogRecordReader(format: .plain, latest: latest)
        }
    }

    /// Whether lines are held while the format is being learned (the first ``sampleSize`` lines).
    public var isLearningFormat: Bool { self.reader == nil }

    /// Adds one line and returns the records completed by it (none while the format is still being learned).
    /// `arrival`, when the sender gave the line a time, becomes the ``LogRecord/arrival`` of the record it starts,
    /// however long the line was held.
    public mutating func add(_ line: Span<UInt8>, arrival: Timestamp? = nil) -> [LogRecord] {
        if self.wrappedInCRI == nil { self.wrappedInCRI = self.format == nil && CRILogLine(line) != nil }
        guard self.wrappedInCRI == true, let envelope = CRILogLine(line) else {
            return self.take(line, time: nil, arrival: arrival)
        }
        let content = line.extracting(envelope.contentStart..<line.count)
        if envelope.isPartial || !self.partial.isEmpty {
            if self.partial.isEmpty { self.partialArrival = arrival }
            if self.partial.count + content.count <= MultilineRule.maximumBytes {
                content.withUnsafeBufferPointer { self.partial.append(contentsOf: $0) }
            }
            if envelope.isPartial { return [] }
            let whole = self.partial
            self.partial = []
            return self.take(whole.span, time: envelope.time, arrival: self.partialArrival)
        }
        return self.take(content, time: envelope.time, arrival: arrival)
    }

    /// Takes one line of the application's (unwrapped, when the stream is), with the time the runtime gave it.
    private mutating func take(_ line: Span<UInt8>, time: Timestamp?, arrival: Timestamp?) -> [LogRecord] {
        guard let reader = self.reader else {
            self.sample.append(line.withUnsafeBufferPointer { Array($0) })
            self.sampleTimes.append((time, arrival))
            if self.sample.count >= self.sampleSize { return self.detectAndReplay() }
            return []
        }
        self.lineNumber += 1
        return self.read(line, time: time, arrival: arrival, with: reader)
    }

    /// Returns every record still held: the sample (if the stream was shorter than it), a long line whose end never
    /// came, and an open record.
    public mutating func finish() -> [LogRecord] {
        var records: [LogRecord] = []
        if !self.partial.isEmpty {
            let rest = self.partial
            self.partial = []
            records += self.take(rest.span, time: nil, arrival: self.partialArrival)
        }
        records += self.reader == nil ? self.detectAndReplay() : []
        if let open = self.open {
            records.append(open)
            self.open = nil
        }
        return records
    }

    private mutating func detectAndReplay() -> [LogRecord] {
        let format = LogFormat.detect(sample: self.sample, learned: self.learnedHeaders)
        let reader = LogRecordReader(format: format, latest: self.latest)
        self.format = format
        self.reader = reader
        var records: [LogRecord] = []
        let held = self.sample
        let times = self.sampleTimes
        self.sample = []
        self.sampleTimes = []
        for (line, times) in zip(held, times) {
            self.lineNumber += 1
            records += self.read(line.span, time: times.time, arrival: times.arrival, with: reader)
        }
        return records
    }

    private mutating func read(
        _ line: Span<UInt8>,
        time: Timestamp?,
        arrival: Timestamp?,
        with reader: LogRecordReader
    ) -> [LogRecord] {
        var fitted = reader.record(from: line, lineNumber: self.lineNumber)
        if fitted == nil { self.unfittingLines += 1 }
        if let time, fitted != nil, fitted?.timestamp == nil { fitted?.timestamp = time }
        fitted?.arrival = arrival
        /// The line read as a bare message, when it fits no format.
        func fallback() -> LogRecord {
            var record = reader.fallbackRecord(from: line, lineNumber: self.lineNumber)
            if record.timestamp == nil { record.timestamp = time }
            record.arrival = arrival
            return record
        }
        guard self.joinsMultiline else {
            return [fitted ?? fallback()]
        }
        if var open = self.open, open.lineCount < MultilineRule.maximumLines,
            open.message.utf8.count + line.count < MultilineRule.maximumBytes,
            MultilineRule.continues(
                open,
                line,
                fitsFormat: fitted != nil,
                format: reader.format,
                indentedTail: self.openHasIndentedTail
            )
        {
            open.lineCount += 1
            // java.util.logging writes a record on two lines, the time, class and method, then `SEVERE: message`:
            // the second names the level and says what happened, so it is the record's message.
            if open.lineCount == 2, open.severity == .unknown, let (level, start) = MultilineRule.levelLine(line) {
                open.severity = level
                open.fields["component"] = open.message
                open.message = line.string(from: start, to: line.count)
                self.open = open
                return []
            }
            open.message += "\n" + line.string(from: 0, to: line.count)
            self.openHasIndentedTail = MultilineRule.isIndented(line)
            if open.severity < .error && MultilineRule.startsException(line) { open.severity = .error }
            self.open = open
            return []
        }
        let completed = self.open
        self.open = fitted ?? fallback()
        self.openHasIndentedTail = false
        return completed.map { [$0] } ?? []
    }
}

/// Decides whether a line continues the record before it (stack frames, `Caused by:`, Go panic goroutines).
enum MultilineRule {
    /// The most lines joined into one record; past it a new record starts, so a stream whose lines all look like
    /// continuations (a format change, hostile input) cannot build one unbounded record.
    static let maximumLines = 500
    /// The most bytes joined into one record.
    static let maximumBytes = 256 * 1024

    /// Whether `line` belongs to `open` rather than starting a new record.
    static func continues(
        _ open: LogRecord,
        _ line: Span<UInt8>,
        fitsFormat: Bool,
        format: LogFormat,
        indentedTail: Bool
    ) -> Bool {
        if fitsFormat {
            if case .plain = format {} else { return false }
        }
        if line.count == 0 || isContinuation(line) { return true }
        if case .plain = format {
            // Python: the exception line closes an indented traceback.
            if indentedTail && open.message.utf8.starts(with: "Traceback ".utf8) { return true }
            // Go: frames of a panic are `pkg.func(...)` lines followed by indented `file.go:12` lines.
            return open.message.utf8.starts(with: "panic: ".utf8) && line.count > 0
                && line[line.count - 1] == UInt8(ascii: ")")
        }
        return true  // Structured streams: a line that does not fit is a continuation.
    }

    /// Whether a line reads as part of the record before it whatever the format: indented, or a stack frame,
    /// `Caused by:` or `... 12 more` (a source that sends a record's lines one by one sends these too).
    static func isContinuation(_ line: Span<UInt8>) -> Bool {
        isIndented(line) || continuationPrefixes.contains { line.holds($0, at: 0) }
    }

    /// The level a line opens with as `LEVEL: ` (`SEVERE: `, `WARNING: `: a level word of four letters or more) and
    /// where its message starts, or nil.
    static func levelLine(_ line: Span<UInt8>) -> (Severity, Int)? {
        var colon = 0
        while colon < line.count && colon <= 12 && ByteClass.isLetter(line[colon]) { colon += 1 }
        guard colon >= 4, colon + 1 < line.count, line[colon] == UInt8(ascii: ":"), line[colon + 1] == 0x20,
            let level = Severity(levelWord: line.extracting(0..<colon))
        else { return nil }
        var start = colon + 1
        while start < line.count && line[start] == 0x20 { start += 1 }
        return (level, start)
    }

    /// Whether a line starts with a space or tab.
    static func isIndented(_ line: Span<UInt8>) -> Bool {
        line.count > 0 && (line[0] == 0x20 || line[0] == 0x09)
    }

    /// Whether a line starts an exception report (`Traceback`, `Caused by:`, `panic:`, `Exception in thread`).
    static func startsException(_ line: Span<UInt8>) -> Bool {
        exceptionPrefixes.contains { line.holds($0, at: 0) }
    }

    private static let continuationPrefixes: [[UInt8]] = [
        "at ", "Caused by:", "... ", "goroutine ", "created by ",
    ]
    .map { Array($0.utf8) }
    private static let exceptionPrefixes: [[UInt8]] = ["Traceback ", "Caused by:", "panic: ", "Exception in thread"]
        .map { Array($0.utf8) }
}
