// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// The level an HTTP access-log line implies by its status, as the line declares none: a message that opens with a
/// request, quoted with its protocol as in Nginx's and Apache's common and combined formats
/// (`"GET /cart HTTP/1.1" 503 1234 …`) or bare as in Express's morgan (`GET /cart 503 2.1 ms - 12`), then the
/// status. A 5xx is an error, a 4xx a warning, anything else information.
enum AccessLogStatus {
    /// The longest request target read (a quoted request may hold spaces in a hostile line; none in a real one).
    static let maximumTarget = 8192

    /// The severity the line's status implies, or nil when the message is no request followed by a status.
    static func severity(of message: Span<UInt8>) -> Severity? {
        let count = message.count
        var index = 0
        let quoted = count > 0 && message[0] == UInt8(ascii: "\"")
        if quoted { index = 1 }
        // The method: a few capitals, one of HTTP's.
        let methodStart = index
        while index < count && index - methodStart <= 7 && message[index] >= 0x41 && message[index] <= 0x5A {
            index += 1
        }
        guard index < count, message[index] == 0x20,
            Self.methods.contains(where: { $0.count == index - methodStart && message.holds($0, at: methodStart) })
        else { return nil }
        index += 1
        // The target: a path, `*` or an absolute URL.
        guard index < count,
            message[index] == UInt8(ascii: "/") || message[index] == UInt8(ascii: "*")
                || message[index] == UInt8(ascii: "h")
        else { return nil }
        let targetStart = index
        if quoted {
            while index < count && message[index] != UInt8(ascii: "\"") && index - targetStart < Self.maximumTarget {
                index += 1
            }
            guard index < count, message[index] == UInt8(ascii: "\"") else { return nil }
            index += 1
        } else {
            while index < count && message[index] != 0x20 { index += 1 }
        }
        guard index < count, message[index] == 0x20 else { return nil }
        while index < count && message[index] == 0x20 { index += 1 }
        // The status: three digits on their own.
        guard index + 3 <= count, index + 3 == count || message[index + 3] == 0x20 else { return nil }
        var status = 0
        for offset in 0..<3 {
            let byte = message[index + offset]
            guard ByteClass.isDigit(byte) else { return nil }
            status = status * 10 + Int(byte - 0x30)
        }
        switch status {
        case 500...599: return .error
        case 400...499: return .warning
        case 100...399: return .info
        default: return nil
        }
    }

    private static let methods: [[UInt8]] = [
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE",
    ]
    .map { Array($0.utf8) }
}
