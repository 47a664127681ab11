// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Durations as people write them in flags and configuration files: `90s`, `15m`, `2h`, `1d`.
public enum DurationText {
    /// Seconds in `text` (a positive number and one of the units s, m, h, d); nil when it is not a duration.
    public static func seconds(in text: String) -> Double? {
        guard let unit = text.last, let amount = Double(text.dropLast()), amount > 0, amount.isFinite else {
            return nil
        }
        switch unit {
        case "s": return amount
        case "m": return amount * 60
        case "h": return amount * 3600
        case "d": return amount * 86_400
        default: return nil
        }
    }

    /// A period as people say it, to the minute: "45 min", "24 h 3 min", "2 days 6 h".
    public static func describe(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 60 else {
            return "\(Int(max(0, seconds.isFinite ? seconds : 0).rounded())) s"
        }
        let minutes = Int((seconds / 60).rounded())
        if minutes < 60 { return "\(minutes) min" }
        if minutes < 2 * 1440 {
            let (hours, rest) = minutes.quotientAndRemainder(dividingBy: 60)
            return rest == 0 ? "\(hours) h" : "\(hours) h \(rest) min"
        }
        let hours = Int((seconds / 3600).rounded())
        let (days, rest) = hours.quotientAndRemainder(dividingBy: 24)
        return rest == 0 ? "\(days) days" : "\(days) days \(rest) h"
    }
}
