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
}
