// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// The type of a template parameter's value, so `<*>` can be read as "an IP", "a duration", "a path".
public enum VariableKind: String, Sendable, Hashable, CaseIterable, Codable {
    case ipv4
    case ipv6
    case hostPort = "host:port"
    case number
    case hex
    case uuid
    case path
    case url
    case duration
    case size
    case time
    case email
    case boolean
    case identifier
    case text

    /// Classifies one parameter value as captured from a line.
    public static func classify(_ value: String) -> VariableKind {
        let bytes = Array(value.utf8)
        guard !bytes.isEmpty else { return .text }
        if bytes.contains(where: ByteClass.isSpace) { return .text }
        let text = value.lowercased()
        if ["true", "false", "yes", "no", "on", "off"].contains(text) { return .boolean }
        if text.contains("://") { return .url }
        if bytes.first == UInt8(ascii: "/") || text.hasPrefix("./") || text.hasPrefix("~/") { return .path }
        if let at = bytes.firstIndex(of: UInt8(ascii: "@")), at > 0, bytes[(at + 1)...].contains(UInt8(ascii: ".")) {
            return .email
        }
        if isIPv4(bytes[...]) { return .ipv4 }
        if let colon = bytes.lastIndex(of: UInt8(ascii: ":")), colon > 0, colon + 1 < bytes.count,
            bytes[(colon + 1)...].allSatisfy(ByteClass.isDigit), !bytes[..<colon].contains(UInt8(ascii: ":"))
        {
            return .hostPort
        }
        if bytes.count(where: { $0 == UInt8(ascii: ":") }) >= 2
            && bytes.allSatisfy({ ByteClass.isHexDigit($0) || $0 == UInt8(ascii: ":") })
        {
            return bytes.contains(where: { !ByteClass.isDigit($0) && $0 != UInt8(ascii: ":") }) ? .ipv6 : .time
        }
        if isUUID(bytes) { return .uuid }
        if text.hasPrefix("0x") && bytes.count > 2 && bytes[2...].allSatisfy(ByteClass.isHexDigit) { return .hex }
        var start = 0
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") { start = 1 }
        let digitsEnd =
            bytes[start...].firstIndex(where: {
                !ByteClass.isDigit($0) && $0 != UInt8(ascii: ".") && $0 != UInt8(ascii: ",")
            })
            ?? bytes.count
        if digitsEnd == bytes.count && digitsEnd > start { return .number }
        if digitsEnd > start {
            let unit = String(text[text.index(text.startIndex, offsetBy: digitsEnd)...])
            if ["ns", "us", "µs", "ms", "s", "sec", "secs", "m", "min", "mins", "h", "hr", "hrs", "d"].contains(unit) {
                return .duration
            }
            if ["b", "kb", "mb", "gb", "tb", "kib", "mib", "gib", "tib", "k", "g", "t", "bytes"].contains(unit) {
                return .size
            }
        }
        if bytes.allSatisfy({ ByteClass.isDigit($0) || "-:/.TZ+,".utf8.contains($0) })
            && bytes.contains(where: ByteClass.isDigit)
        {
            return .time
        }
        if bytes.count >= 8 && bytes.allSatisfy(ByteClass.isHexDigit) && bytes.contains(where: ByteClass.isDigit) {
            return .hex
        }
        return .identifier
    }

    private static func isIPv4(_ bytes: ArraySlice<UInt8>) -> Bool {
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                !part.isEmpty && part.count <= 3 && part.allSatisfy(ByteClass.isDigit)
                    && Int(String(decoding: part, as: UTF8.self))! <= 255
            }
    }

    private static func isUUID(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                guard byte == UInt8(ascii: "-") else { return false }
            } else if !ByteClass.isHexDigit(byte) {
                return false
            }
        }
        return true
    }
}
