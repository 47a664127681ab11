// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Replaces personal data and secrets in text with typed placeholders before anything is stored or sent out.
///
/// Recognised: email addresses, IPv4 and IPv6 addresses, payment card numbers (13–19 digits passing the Luhn
/// check, optionally grouped by spaces or dashes), JSON Web Tokens, `Bearer` tokens, AWS access key IDs, API keys
/// of well-known shapes (`sk-…`, `ghp_…`, `xoxb-…`, `AIza…`), and the value after a secret-looking key
/// (`password=…`, `"api_key": "…"`, `Authorization: …`). Masking is idempotent: placeholders are never matched
/// again, so masked text can be masked twice safely.
public struct PIIMasker: Sendable {
    /// A kind of sensitive value, with the placeholder it becomes.
    public enum Kind: String, Sendable, CaseIterable, Hashable {
        case email
        case ip
        case card
        case jwt
        case token
        case awsKey = "aws-key"
        case apiKey = "api-key"
        case secret

        /// The placeholder text, such as `<email>`.
        public var placeholder: String { "<\(self.rawValue)>" }
    }

    /// The kinds that are masked.
    public let kinds: Set<Kind>
    /// ``kinds`` as flags: the scan asks for each of them at every word start.
    private let enabled: [Bool]
    /// Lowercased key names whose values are secrets (`password`, `token`, …).
    public let secretKeys: Set<String>

    /// The secret key names masked by default.
    public static let defaultSecretKeys: Set<String> = [
        "password", "passwd", "pwd", "pass", "secret", "token", "api_key", "apikey", "api-key", "access_token",
        "refresh_token", "auth", "authorization", "client_secret", "private_key", "aws_secret_access_key",
        "secret_key", "session_token", "x-api-key", "credentials",
    ]

    /// Creates a masker; by default every kind is masked.
    public init(kinds: Set<Kind> = Set(Kind.allCases), secretKeys: Set<String> = PIIMasker.defaultSecretKeys) {
        self.kinds = kinds
        self.enabled = Kind.allCases.map { kinds.contains($0) }
        self.secretKeys = Set(secretKeys.map { $0.lowercased() })
        self.packedSecretKeys = Set(self.secretKeys.compactMap { PackedWord(lowercasing: Array($0.utf8).span) })
    }

    /// The secret keys of up to 16 bytes as integers: the per-word check hashes two integers, not a string.
    private let packedSecretKeys: Set<PackedWord>

    /// Returns `text` with every recognised value replaced by its placeholder.
    public func mask(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard let masked = self.mask(bytes) else { return text }
        return String(decoding: masked, as: UTF8.self)
    }

    /// Returns the masked bytes, or `nil` when nothing needed masking (the common case costs no copy).
    public func mask(_ input: [UInt8]) -> [UInt8]? {
        var output: [UInt8] = []
        var copied = 0
        var index = 0
        var changed = false
        while index < input.count {
            if let (end, kind, keepPrefix) = self.match(input, at: index, after: copied) {
                if !changed {
                    output.reserveCapacity(input.count)
                    changed = true
                }
                output.append(contentsOf: input[copied..<(index + keepPrefix)])
                output.append(contentsOf: kind.placeholder.utf8)
                copied = end
                index = end
                continue
            }
            // Jump to the next token boundary when inside a word, so matches start at word starts.
            if Self.isWordByte(input[index]) {
                var next = index + 1
                while next < input.count && Self.isWordByte(input[next]) && !self.mayStartInsideWord(input, next) {
                    next += 1
                }
                index = next
            } else {
                index += 1
            }
        }
        guard changed else { return nil }
        output.append(contentsOf: input[copied...])
        return output
    }

    // MARK: - Matching at a position

    /// The end of a sensitive value starting at `start`, its kind, and how many leading bytes stay (a key name;
    /// negative for an address whose local part began before `start`, never before `floor`: bytes already masked).
    private func match(_ s: [UInt8], at start: Int, after floor: Int) -> (Int, Kind, Int)? {
        if self.isEnabled(.secret), let (end, keep) = self.secretValue(s, start) { return (end, .secret, keep) }
        if self.isEnabled(.token), let (end, keep) = Self.bearerToken(s, start) { return (end, .token, keep) }
        if self.isEnabled(.jwt), let end = Self.jwt(s, start) { return (end, .jwt, 0) }
        if self.isEnabled(.awsKey), let end = Self.awsAccessKey(s, start) { return (end, .awsKey, 0) }
        if self.isEnabled(.apiKey), let end = Self.apiKey(s, start) { return (end, .apiKey, 0) }
        if self.isEnabled(.email), let (emailStart, end) = Self.email(s, start, floor: floor) {
            return (end, .email, emailStart - start)
        }
        if self.isEnabled(.card), let end = Self.card(s, start) { return (end, .card, 0) }
        if self.isEnabled(.ip), let end = Self.ipv4(s, start) ?? Self.ipv6(s, start) { return (end, .ip, 0) }
        return nil
    }

    @inline(__always)
    private func isEnabled(_ kind: Kind) -> Bool {
        switch kind {
        case .email: self.enabled[0]
        case .ip: self.enabled[1]
        case .card: self.enabled[2]
        case .jwt: self.enabled[3]
        case .token: self.enabled[4]
        case .awsKey: self.enabled[5]
        case .apiKey: self.enabled[6]
        case .secret: self.enabled[7]
        }
    }

    private func mayStartInsideWord(_ s: [UInt8], _ index: Int) -> Bool {
        s[index] == UInt8(ascii: "@")
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        ByteClass.isLetter(byte) || ByteClass.isDigit(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "%") || byte >= 0x80
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        ByteClass.isLetter(byte) || ByteClass.isDigit(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "~") || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "=")
    }

    private static func startsWith(_ s: [UInt8], _ start: Int, _ prefix: String, ignoringCase: Bool = false) -> Bool {
        startsWith(s, start, Array(prefix.utf8), ignoringCase: ignoringCase)
    }

    private static func startsWith(_ s: [UInt8], _ start: Int, _ prefix: [UInt8], ignoringCase: Bool = false) -> Bool {
        guard start + prefix.count <= s.count else { return false }
        var index = start
        for byte in prefix {
            guard index < s.count else { return false }
            let actual = ignoringCase ? (ByteClass.isLetter(s[index]) ? s[index] | 0x20 : s[index]) : s[index]
            let expected = ignoringCase ? (ByteClass.isLetter(byte) ? byte | 0x20 : byte) : byte
            guard actual == expected else { return false }
            index += 1
        }
        return true
    }

    /// `password=hunter2`, `"token": "abc"`, `Authorization: Basic xyz`: keeps the key, masks the value.
    private func secretValue(_ s: [UInt8], _ start: Int) -> (Int, Int)? {
        guard start == 0 || !Self.isWordByte(s[start - 1]) || s[start - 1] == UInt8(ascii: ".") else { return nil }
        var keyStart = start
        if s[keyStart] == UInt8(ascii: "\"") || s[keyStart] == UInt8(ascii: "'") { keyStart += 1 }
        var keyEnd = keyStart
        while keyEnd < s.count && keyEnd - keyStart < 32
            && (ByteClass.isLetter(s[keyEnd]) || s[keyEnd] == UInt8(ascii: "_") || s[keyEnd] == UInt8(ascii: "-"))
        {
            keyEnd += 1
        }
        guard keyEnd > keyStart else { return nil }
        var index = keyEnd
        if index < s.count && (s[index] == UInt8(ascii: "\"") || s[index] == UInt8(ascii: "'")) { index += 1 }
        while index < s.count && s[index] == 0x20 { index += 1 }
        // Only a word followed by `=` or `:` can be a key: check that before building the name.
        guard index < s.count, s[index] == UInt8(ascii: "=") || s[index] == UInt8(ascii: ":") else { return nil }
        if let packed = PackedWord(lowercasing: s.span.extracting(keyStart..<keyEnd)) {
            guard self.packedSecretKeys.contains(packed) else { return nil }
        } else {
            let key = String(
                decoding: s[keyStart..<keyEnd].map { ByteClass.isLetter($0) ? $0 | 0x20 : $0 },
                as: UTF8.self
            )
            guard self.secretKeys.contains(key) else { return nil }
        }
        index += 1
        while index < s.count && s[index] == 0x20 { index += 1 }
        var quote: UInt8?
        if index < s.count && (s[index] == UInt8(ascii: "\"") || s[index] == UInt8(ascii: "'")) {
            quote = s[index]
            index += 1
        }
        let valueStart = index
        // `Authorization: Basic xyz` and `Bearer xyz`: the scheme stays readable.
        if Self.startsWith(s, index, "basic ", ignoringCase: true)
            || Self.startsWith(s, index, "bearer ", ignoringCase: true)
        {
            while index < s.count && s[index] != 0x20 { index += 1 }
            index += 1
        }
        let maskedStart = index
        if let quote {
            while index < s.count && s[index] != quote { index += 1 }
        } else {
            while index < s.count && !ByteClass.isSpace(s[index]) && s[index] != UInt8(ascii: ",")
                && s[index] != UInt8(ascii: ";") && s[index] != UInt8(ascii: "&") && s[index] != UInt8(ascii: "\"")
            {
                index += 1
            }
        }
        guard index > maskedStart, valueStart <= maskedStart else { return nil }
        // Already masked: leave it so masking stays idempotent.
        if s[maskedStart] == UInt8(ascii: "<") && s[index - 1] == UInt8(ascii: ">") { return nil }
        return (index, maskedStart - start)
    }

    private static let bearer = Array("bearer ".utf8)

    private static func bearerToken(_ s: [UInt8], _ start: Int) -> (Int, Int)? {
        guard s[start] | 0x20 == UInt8(ascii: "b"), startsWith(s, start, bearer, ignoringCase: true) else { return nil }
        var index = start + 7
        while index < s.count && s[index] == 0x20 { index += 1 }
        let tokenStart = index
        while index < s.count && isTokenByte(s[index]) { index += 1 }
        return index - tokenStart >= 8 ? (index, tokenStart - start) : nil
    }

    private static func jwt(_ s: [UInt8], _ start: Int) -> Int? {
        guard s[start] == UInt8(ascii: "e"), startsWith(s, start, "eyJ") else { return nil }
        var index = start
        var dots = 0
        while index < s.count {
            let byte = s[index]
            if byte == UInt8(ascii: ".") {
                dots += 1
            } else if !(ByteClass.isLetter(byte) || ByteClass.isDigit(byte) || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "-"))
            {
                break
            }
            index += 1
        }
        return dots == 2 && index - start >= 20 ? index : nil
    }

    private static func awsAccessKey(_ s: [UInt8], _ start: Int) -> Int? {
        guard s[start] == UInt8(ascii: "A"), start + 20 <= s.count,
            startsWith(s, start, "AKIA") || startsWith(s, start, "ASIA")
        else { return nil }
        for index in (start + 4)..<(start + 20) {
            let byte = s[index]
            guard ByteClass.isDigit(byte) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) else {
                return nil
            }
        }
        guard start + 20 == s.count || !(ByteClass.isLetter(s[start + 20]) || ByteClass.isDigit(s[start + 20])) else {
            return nil
        }
        return start + 20
    }

    private static let apiKeyPrefixBytes: [[UInt8]] = apiKeyPrefixes.map { Array($0.utf8) }
    /// Whether a byte starts some API key prefix, as a 256-entry table (a `Set` would hash every byte).
    private static let apiKeyFirstBytes: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for prefix in apiKeyPrefixes { if let first = prefix.utf8.first { table[Int(first)] = true } }
        return table
    }()
    private static let apiKeyPrefixes = [
        "sk-", "sk_live_", "sk_test_", "rk_live_", "pk_live_", "ghp_", "gho_", "ghs_", "ghu_", "github_pat_", "xoxb-",
        "xoxp-", "xoxa-", "glpat-", "AIza", "SG.",
    ]

    private static func apiKey(_ s: [UInt8], _ start: Int) -> Int? {
        guard start == 0 || !isWordByte(s[start - 1]), apiKeyFirstBytes[Int(s[start])] else { return nil }
        for prefix in apiKeyPrefixBytes where startsWith(s, start, prefix) {
            var index = start + prefix.count
            var digits = 0
            while index < s.count
                && (ByteClass.isLetter(s[index]) || ByteClass.isDigit(s[index]) || s[index] == UInt8(ascii: "_")
                    || s[index] == UInt8(ascii: "-") || s[index] == UInt8(ascii: "."))
            {
                if ByteClass.isDigit(s[index]) { digits += 1 }
                index += 1
            }
            if index - start - prefix.count >= 16 && digits > 0 { return index }
        }
        return nil
    }

    /// An email found around an `@` at `start`; returns where the address starts and ends.
    private static func email(_ s: [UInt8], _ start: Int, floor: Int) -> (Int, Int)? {
        guard s[start] == UInt8(ascii: "@"), start > floor else { return nil }
        var localStart = start
        while localStart > floor {
            let byte = s[localStart - 1]
            guard
                ByteClass.isLetter(byte) || ByteClass.isDigit(byte) || byte == UInt8(ascii: ".")
                    || byte == UInt8(ascii: "_")
                    || byte == UInt8(ascii: "%") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
            else { break }
            localStart -= 1
        }
        guard localStart < start else { return nil }
        var end = start + 1
        var lastDot = -1
        while end < s.count
            && (ByteClass.isLetter(s[end]) || ByteClass.isDigit(s[end]) || s[end] == UInt8(ascii: "-")
                || s[end] == UInt8(ascii: "."))
        {
            if s[end] == UInt8(ascii: ".") { lastDot = end }
            end += 1
        }
        while end > start + 1 && s[end - 1] == UInt8(ascii: ".") { end -= 1 }
        guard lastDot > start + 1, lastDot < end - 2 else { return nil }
        for index in (lastDot + 1)..<end where !ByteClass.isLetter(s[index]) { return nil }
        return (localStart, end)
    }

    /// 13–19 digits, optionally in groups separated by one space or dash, that pass the Luhn check.
    private static func card(_ s: [UInt8], _ start: Int) -> Int? {
        guard ByteClass.isDigit(s[start]),
            start == 0 || !(ByteClass.isDigit(s[start - 1]) || ByteClass.isLetter(s[start - 1]))
        else {
            return nil
        }
        var digits: [UInt8] = []
        var index = start
        var end = start
        while index < s.count && digits.count < 19 {
            if ByteClass.isDigit(s[index]) {
                digits.append(s[index] - 0x30)
                index += 1
                end = index
            } else if (s[index] == 0x20 || s[index] == UInt8(ascii: "-")) && index + 1 < s.count
                && ByteClass.isDigit(s[index + 1])
            {
                index += 1
            } else {
                break
            }
        }
        guard digits.count >= 13, end == s.count || !(ByteClass.isDigit(s[end]) || ByteClass.isLetter(s[end])) else {
            return nil
        }
        var sum = 0
        for (position, digit) in digits.reversed().enumerated() {
            var value = Int(digit)
            if position % 2 == 1 {
                value *= 2
                if value > 9 { value -= 9 }
            }
            sum += value
        }
        return sum % 10 == 0 ? end : nil
    }

    private static func ipv4(_ s: [UInt8], _ start: Int) -> Int? {
        guard ByteClass.isDigit(s[start]),
            start == 0 || !(ByteClass.isDigit(s[start - 1]) || s[start - 1] == UInt8(ascii: "."))
        else {
            return nil
        }
        var index = start
        for part in 0..<4 {
            var value = 0
            let partStart = index
            while index < s.count && ByteClass.isDigit(s[index]) && index - partStart < 3 {
                value = value * 10 + Int(s[index] - 0x30)
                index += 1
            }
            guard index > partStart, value <= 255 else { return nil }
            if part < 3 {
                guard index < s.count, s[index] == UInt8(ascii: ".") else { return nil }
                index += 1
            }
        }
        guard
            index == s.count
                || !(ByteClass.isDigit(s[index])
                    || (s[index] == UInt8(ascii: ".") && index + 1 < s.count && ByteClass.isDigit(s[index + 1])))
        else {
            return nil
        }
        return index
    }

    private static func ipv6(_ s: [UInt8], _ start: Int) -> Int? {
        guard ByteClass.isHexDigit(s[start]) || s[start] == UInt8(ascii: ":"),
            start == 0
                || !(ByteClass.isHexDigit(s[start - 1]) || s[start - 1] == UInt8(ascii: ":")
                    || ByteClass.isLetter(s[start - 1]))
        else { return nil }
        var index = start
        var colons = 0
        var doubleColon = false
        var groupLength = 0
        var hexLetter = false
        var digit = false
        while index < s.count {
            let byte = s[index]
            if byte == UInt8(ascii: ":") {
                if index > start && s[index - 1] == UInt8(ascii: ":") { doubleColon = true }
                colons += 1
                groupLength = 0
            } else if ByteClass.isHexDigit(byte) {
                groupLength += 1
                if ByteClass.isDigit(byte) { digit = true } else { hexLetter = true }
                guard groupLength <= 4 else { return nil }
            } else {
                break
            }
            index += 1
        }
        guard colons >= 2, colons <= 7, doubleColon || colons == 7, hexLetter || doubleColon, digit, index - start >= 3
        else { return nil }
        guard index == s.count || !ByteClass.isLetter(s[index]) else { return nil }
        return index
    }
}
