// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// How far one metric strays from its reference after the onset.
extension RootCauseRanker {
    /// How far `column` strays in the `judged` rows (the onset on) from its level before (see the type's notes):
    /// its score in reference spreads, before weighting by kind, with the first time it left its band, the value
    /// where it strayed most and its reference median. Nil when it has too little reference or no value after the
    /// onset. A last value on `aloneUntil` or before counts alone, as one right after the onset does.
    func score(
        _ column: IncidentData.Column,
        kind: MetricKind,
        rows judged: Range<Int>,
        times: [Double],
        unsettled: [Bool] = [],
        aloneUntil: Int = -1
    ) -> (score: Double, first: Double?, observed: Double, median: Double)? {
        let onsetRow = judged.lowerBound
        /// Whether a row before the onset belongs to the reference (not to an earlier incident).
        func settled(_ row: Int) -> Bool { row >= unsettled.count || !unsettled[row] }
        var reference: [Double] = []
        reference.reserveCapacity(onsetRow)
        for row in 0..<onsetRow where settled(row) {
            if let value = column.values[row] { reference.append(value) }
        }
        guard reference.count >= (IncidentData.evidenceMetrics.contains(column.metric) ? 1 : 2) else { return nil }
        let (median, iqr) = Self.medianAndIQR(&reference)
        var magnitude = 0.0
        for case let value? in column.values { magnitude = max(magnitude, abs(value)) }
        let floor =
            kind == .quality ? 0.1 * self.configuration.relativeScaleFloor : self.configuration.relativeScaleFloor
        var scale = max(iqr, floor * abs(median), 1e-3 * magnitude, 1e-9)
        // Counts vary at least like a Poisson count does: a service that got 44 requests where it got none
        // has not deviated by thousands of scales.
        if kind == .traffic || kind == .events || kind == .host {
            scale = max(scale, max(1, abs(median)).squareRoot())
        }
        let sign = kind == .quality ? -1.0 : 1.0
        // How far the metric already strayed before the onset: a spiky metric must go further to count. Spikiness
        // is straying again and again, so the largest earlier excursion that held `episodeRows` rows (another
        // incident in the reference window) is forgiven; spikes are not. One on the reference's first value may
        // have begun before the window did: it counts as held.
        var episodes: [(peak: Double, rows: Int)] = []
        var inEpisode = false
        var firstValue = true
        for row in 0..<onsetRow where settled(row) {
            guard let value = column.values[row] else { continue }
            let deviation = sign * (value - median) / scale
            if deviation > 3 {
                if inEpisode {
                    episodes[episodes.count - 1].peak = max(episodes[episodes.count - 1].peak, deviation)
                    episodes[episodes.count - 1].rows += 1
                } else {
                    episodes.append((deviation, firstValue ? Self.episodeRows : 1))
                }
                inEpisode = true
            } else {
                inEpisode = false
            }
            firstValue = false
        }
        let forgiven = episodes.indices.filter { episodes[$0].rows >= Self.episodeRows }.max {
            episodes[$0].peak < episodes[$1].peak
        }
        var usual = 1.0
        for (index, episode) in episodes.enumerated() where index != forgiven { usual = max(usual, episode.peak) }
        var score = -Double.infinity
        var first: Double?
        var observed = median
        // The judged rows that hold a value, and how far each strays.
        var present: [Int] = []
        var deviations: [Double] = []
        present.reserveCapacity(judged.count)
        deviations.reserveCapacity(judged.count)
        for row in judged {
            guard let value = column.values[row] else { continue }
            present.append(row)
            deviations.append(sign * (value - median) / scale)
        }
        for (position, row) in present.enumerated() {
            if first == nil && deviations[position] > 3 { first = times[row] }
            // The last value stands alone only right after the onset or by the alert.
            guard position + 1 < present.count || position <= 1 || row <= aloneUntil else { continue }
            // The least of k values in a row counts √(k/2) times: as far as the next value holds it, and surer
            // the longer it holds.
            var least = deviations[position]
            if position + 1 == present.count, least > score {
                score = least
                observed = column.values[row]!
            }
            for k in 2...4 where position + k <= present.count {
                least = min(least, deviations[position + k - 1])
                let held = least * (Double(k) / 2).squareRoot()
                if held > score {
                    score = held
                    observed = column.values[row]!
                }
            }
        }
        guard score.isFinite else { return nil }
        return (score / usual.squareRoot(), first, observed, median)
    }

    /// An excursion before the onset that holds this many rows is an earlier incident, not spikiness.
    static let episodeRows = 3

    /// The median and interquartile range of `values` (not empty), which are reordered.
    static func medianAndIQR(_ values: inout [Double]) -> (median: Double, iqr: Double) {
        let (lower, median, upper) = OrderStatistics.quartiles(of: &values)
        return (median, upper - lower)
    }
}
