// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import VigilCore

/// Turns lines of the host's system log into log entries: journald's JSON export and the kernel's `/dev/kmsg`.
public enum SystemLogLine {
    /// One line of `journalctl -o json`: `MESSAGE`, `__REALTIME_TIMESTAMP` (µs), `SYSLOG_IDENTIFIER`, `PRIORITY`.
    /// The service is the syslog identifier (or the unit); the priority is written in front of the message as
    /// a level word so the pipeline sees the record's severity.
    public static func journal(_ line: [UInt8]) -> (StreamKey, LogEntry)? {
        guard let document = try? JSONParser.parse(line) else { return nil }
        let message: String
        switch document["MESSAGE"] {
        case .string(let text): message = text
        case .array(let bytes):
            message = String(
                decoding: bytes.compactMap { $0.int64.map(UInt8.init(truncatingIfNeeded:)) },
                as: UTF8.self
            )
        default: return nil
        }
        guard let micros = document["__REALTIME_TIMESTAMP"]?.int64 else { return nil }
        let service =
            document["SYSLOG_IDENTIFIER"]?.string ?? document["_SYSTEMD_UNIT"]?.string ?? document["_COMM"]?.string
            ?? "system"
        let level = document["PRIORITY"]?.int64.map { Severity(syslogCode: Int($0)) } ?? .unknown
        let text = (level == .unknown ? "" : level.name.uppercased() + " ") + message
        return (
            StreamKey(service: service, source: "journald"),
            LogEntry(time: Timestamp(nanoseconds: micros &* 1000), line: Array(text.utf8))
        )
    }

    /// One record of `/dev/kmsg`: `prio,seq,usec_since_boot,flags;message`. `bootTime` turns the relative
    /// time into wall time.
    public static func kernel(_ line: [UInt8], bootTime: Timestamp) -> (sequence: UInt64, entry: LogEntry)? {
        guard let semicolon = line.firstIndex(of: UInt8(ascii: ";")) else { return nil }
        let fields = line[..<semicolon].split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        guard fields.count >= 3, let priority = Int(String(decoding: fields[0], as: UTF8.self)),
            let sequence = UInt64(String(decoding: fields[1], as: UTF8.self)),
            let micros = Int64(String(decoding: fields[2], as: UTF8.self))
        else { return nil }
        let level = Severity(syslogCode: priority & 7)
        var text = Array((level.name.uppercased() + " ").utf8)
        // Continuation lines (" KEY=value" after a newline) are dropped: the first line is the message.
        let message = line[(semicolon + 1)...].prefix { $0 != 0x0A }
        text.append(contentsOf: message)
        return (sequence, LogEntry(time: Timestamp(nanoseconds: bootTime.nanoseconds &+ micros &* 1000), line: text))
    }
}
