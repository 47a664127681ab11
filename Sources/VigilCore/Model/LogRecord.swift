// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// One log event after its header has been split off: when, how severe, where from, and the message.
public struct LogRecord: Sendable, Hashable {
    /// When the event happened, if the line said so.
    public var timestamp: Timestamp?
    /// The level the line declared, or `.unknown`.
    public var severity: Severity
    /// Header fields other than time and level (`component`, `host`, `pid`, `thread`, `service`, …).
    public var fields: [String: String]
    /// The free-text message that template mining works on.
    public var message: String
    /// The 1-based number of the first input line of this record.
    public var lineNumber: Int
    /// How many input lines were joined into this record (stack traces span several).
    public var lineCount: Int
    /// When the record's first line arrived, as whoever sent it said (a push's entry time), if they said.
    public var arrival: Timestamp?

    /// Creates a record.
    public init(
        timestamp: Timestamp? = nil,
        severity: Severity = .unknown,
        fields: [String: String] = [:],
        message: String,
        lineNumber: Int = 0,
        lineCount: Int = 1
    ) {
        self.timestamp = timestamp
        self.severity = severity
        self.fields = fields
        self.message = message
        self.lineNumber = lineNumber
        self.lineCount = lineCount
    }
}
