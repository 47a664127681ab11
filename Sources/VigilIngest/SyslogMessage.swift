// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import VigilCore

/// Decodes syslog messages as they arrive over the network (RFC 5424 and RFC 3164) and the framings of
/// syslog over TCP (RFC 6587: octet counting `LEN SP MSG`, or one message per line).
public enum SyslogMessage {
    /// The most bytes one message may have; longer messages are cut (RFC 5425 asks receivers for 8 KiB at
    /// least; rsyslog's default is 8 KiB, journald's 64 KiB).
    public static let maximumLength = 64 << 10

    /// One message as a stream (service = APP-NAME or TAG, source = `syslog`) and an entry whose line starts
    /// with the severity word, keeps RFC 5424 structured data, then the message. RFC 3164 carries no year and
    /// often no zone, so its entries are stamped `now`; RFC 5424 timestamps are used as sent.
    public static func decode(_ message: some Collection<UInt8>, now: Timestamp) -> (StreamKey, LogEntry) {
        var bytes = Array(message.prefix(Self.maximumLength))
        while let last = bytes.last, last == 0x0A || last == 0x0D || last == 0 { bytes.removeLast() }
        guard let (priority, afterPriority) = Self.priority(bytes) else {
            return (StreamKey(service: "syslog", source: "syslog"), LogEntry(time: now, line: bytes))
        }
        let level = Severity(syslogCode: priority & 7).name.uppercased()
        let rest = bytes[afterPriority...]
        if rest.count > 2, rest.first == UInt8(ascii: "1"), rest[rest.startIndex + 1] == 0x20 {
            return Self.rfc5424(Array(rest.dropFirst(2)), level: level, now: now)
        }
        return Self.rfc3164(Array(rest), level: level, now: now)
    }

    /// `<PRI>`: the priority and the index after `>`.
    static func priority(_ bytes: [UInt8]) -> (Int, Int)? {
        guard bytes.count > 2, bytes[0] == UInt8(ascii: "<") else { return nil }
        var value = 0
        var index = 1
        while index < bytes.count, index <= 4, bytes[index] >= 0x30, bytes[index] <= 0x39 {
            value = value * 10 + Int(bytes[index] - 0x30)
            index += 1
        }
        guard index > 1, index < bytes.count, bytes[index] == UInt8(ascii: ">"), value <= 191 else { return nil }
        return (value, index + 1)
    }

    /// `TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]`.
    static func rfc5424(_ bytes: [UInt8], level: String, now: Timestamp) -> (StreamKey, LogEntry) {
        var fields: [ArraySlice<UInt8>] = []
        var index = 0
        while fields.count < 5 {
            let start = index
            while index < bytes.count && bytes[index] != 0x20 { index += 1 }
            fields.append(bytes[start..<index])
            if index < bytes.count { index += 1 } else { break }
        }
        let nilValue: ArraySlice<UInt8> = [UInt8(ascii: "-")]
        func text(_ position: Int) -> String? {
            guard position < fields.count, !fields[position].isEmpty, fields[position] != nilValue else { return nil }
            return String(decoding: fields[position], as: UTF8.self)
        }
        let time = text(0).flatMap { TimestampParser.parse(Array($0.utf8).span) } ?? now
        let service = text(2) ?? "syslog"
        // Structured data: `-` or `[id k="v"]...`, with `\]` and `\"` escaped inside values.
        let dataStart = index
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
            index += 1
        } else {
            while index < bytes.count, bytes[index] == UInt8(ascii: "[") {
                var quoted = false
                while index < bytes.count {
                    let byte = bytes[index]
                    index += 1
                    if byte == UInt8(ascii: "\\") && quoted {
                        index += 1
                    } else if byte == UInt8(ascii: "\"") {
                        quoted.toggle()
                    } else if byte == UInt8(ascii: "]") && !quoted {
                        break
                    }
                }
            }
        }
        let data = bytes[dataStart..<min(index, bytes.count)]
        var message = bytes[min(index, bytes.count)...].drop { $0 == 0x20 }
        // A UTF-8 byte order mark may open MSG.
        if message.starts(with: [0xEF, 0xBB, 0xBF]) { message = message.dropFirst(3) }
        var line = Array(level.utf8)
        if !data.isEmpty && data != nilValue {
            line.append(0x20)
            line += data
        }
        if !message.isEmpty {
            line.append(0x20)
            line += message
        }
        return (StreamKey(service: service, source: "syslog"), LogEntry(time: time, line: line))
    }

    /// `Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG`, with the header parts optional as senders vary.
    static func rfc3164(_ bytes: [UInt8], level: String, now: Timestamp) -> (StreamKey, LogEntry) {
        var index = 0
        // "Mmm dd hh:mm:ss " is 16 bytes; skip it when it looks like one.
        if bytes.count > 16, bytes[3] == 0x20, bytes[6] == 0x20, bytes[9] == UInt8(ascii: ":"),
            bytes[12] == UInt8(ascii: ":"), bytes[15] == 0x20
        {
            index = 16
            // HOSTNAME: the next word, unless it already is the tag.
            var end = index
            while end < bytes.count, bytes[end] != 0x20, bytes[end] != UInt8(ascii: ":"),
                bytes[end] != UInt8(ascii: "[")
            {
                end += 1
            }
            if end < bytes.count, bytes[end] == 0x20 { index = end + 1 }
        }
        // TAG: alphanumerics and a few marks, up to 48 bytes, then `[pid]` and/or `:`.
        var end = index
        while end < bytes.count, end - index < 48, bytes[end] != 0x20, bytes[end] != UInt8(ascii: ":"),
            bytes[end] != UInt8(ascii: "[")
        {
            end += 1
        }
        var service = "syslog"
        var messageStart = index
        if end > index, end < bytes.count, bytes[end] == UInt8(ascii: ":") || bytes[end] == UInt8(ascii: "[") {
            service = String(decoding: bytes[index..<end], as: UTF8.self)
            var after = end
            if bytes[after] == UInt8(ascii: "[") {
                while after < bytes.count, bytes[after] != UInt8(ascii: "]") { after += 1 }
                after += 1
            }
            if after < bytes.count, bytes[after] == UInt8(ascii: ":") { after += 1 }
            messageStart = min(after, bytes.count)
        }
        let message = bytes[messageStart...].drop { $0 == 0x20 }
        return (
            StreamKey(service: service, source: "syslog"),
            LogEntry(time: now, line: Array(level.utf8) + [0x20] + message)
        )
    }

    /// Splits a TCP byte stream into messages (RFC 6587): octet counting when a frame starts with a digit,
    /// otherwise one message per line. Returns the messages and how many bytes were used; the rest waits for
    /// more input. A frame longer than ``maximumLength`` is an error.
    public static func frames(_ buffer: some Collection<UInt8>) throws(IngestError) -> (messages: [[UInt8]], used: Int)
    {
        let bytes = Array(buffer)
        var messages: [[UInt8]] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0 {
                index += 1
                continue
            }
            if bytes[index] >= UInt8(ascii: "1"), bytes[index] <= UInt8(ascii: "9") {
                var length = 0
                var cursor = index
                while cursor < bytes.count, bytes[cursor] >= 0x30, bytes[cursor] <= 0x39, cursor - index < 8 {
                    length = length * 10 + Int(bytes[cursor] - 0x30)
                    cursor += 1
                }
                if cursor == bytes.count { break }  // the length is not complete yet
                guard bytes[cursor] == 0x20 else {
                    throw IngestError("syslog: an octet-counted frame must be LENGTH SPACE MESSAGE")
                }
                guard length <= Self.maximumLength else {
                    throw IngestError("syslog: a frame of \(length) bytes exceeds the limit of \(Self.maximumLength)")
                }
                guard bytes.count - cursor - 1 >= length else { break }
                messages.append(Array(bytes[(cursor + 1)..<(cursor + 1 + length)]))
                index = cursor + 1 + length
            } else {
                guard let newline = bytes[index...].firstIndex(of: 0x0A) else {
                    guard bytes.count - index <= Self.maximumLength else {
                        throw IngestError("syslog: a line longer than \(Self.maximumLength) bytes")
                    }
                    break
                }
                messages.append(Array(bytes[index..<newline]))
                index = newline + 1
            }
        }
        return (messages, index)
    }
}
