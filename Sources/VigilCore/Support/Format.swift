// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Number formatting without Foundation, for evidence sentences.
public enum Format {
    /// At most three decimals, trailing zeros dropped, and none from 1,000 on (a memory of 243478528.395 bytes is
    /// read as 243478528).
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        let scaled = abs(value) >= 1000 ? value.rounded() * 1000 : (value * 1000).rounded()
        guard abs(scaled) < 1e15 else { return "\(value)" }
        let integer = Int64(scaled)
        let sign = integer < 0 ? "-" : ""
        let magnitude = integer.magnitude
        var fraction = String(magnitude % 1000)
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.last == "0" { fraction.removeLast() }
        return sign + String(magnitude / 1000) + (fraction.isEmpty ? "" : "." + fraction)
    }

    /// A count and its noun, plural unless the count is 1: "1 symptom", "1,847 alerts". `plural` is for nouns
    /// that do not just add an s.
    public static func count(_ value: Int, _ noun: String, plural: String? = nil) -> String {
        Self.count(value) + " " + (value == 1 ? noun : plural ?? noun + "s")
    }

    /// Seconds as hours to a tenth, as a time to a limit is told: "68.3 h", and "never" for an infinite time.
    public static func hours(_ seconds: Double) -> String {
        seconds.isFinite ? Self.number((seconds / 360).rounded() / 10) + " h" : "never"
    }

    /// A share as a whole percentage: "73 %", and "<1 %" for one above 0 that rounds to 0.
    public static func percent(_ share: Double) -> String {
        let whole = Int((share * 100).rounded())
        return whole == 0 && share > 0 ? "<1 %" : "\(whole) %"
    }

    /// A count with thousands separated by commas: 1,847.
    public static func count(_ value: Int) -> String {
        var digits = String(value.magnitude)
        var index = digits.count - 3
        while index > 0 {
            digits.insert(",", at: digits.index(digits.startIndex, offsetBy: index))
            index -= 3
        }
        return (value < 0 ? "-" : "") + digits
    }
}
