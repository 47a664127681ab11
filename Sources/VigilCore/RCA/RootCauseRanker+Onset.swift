// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Where an incident begins: the votes of the metrics' change points, the rows an earlier incident holds, and
/// the search back from an onset after which nothing moved.
extension RootCauseRanker {
    /// How many rankings the search back from a quiet onset tries row by row, then in strides over the rest, and
    /// at most back to where a move began: a case of 1,200 one-second rows must not be ranked 600 times.
    static let quietProbes = 6

    /// The latest row in `earliest..<onset` whose ranking shows a deviation, and that ranking: the `quietProbes`
    /// rows before `onset` one by one (what came back a few rows ago), then `quietProbes` strides over the rest,
    /// halving the stride between the first row that shows one and the quiet row after it (an earlier onset
    /// judges more rows, so it shows a deviation more often).
    static func latestRow(
        from onset: Int,
        to earliest: Int,
        where ranked: (Int) -> [Candidate]
    ) -> (row: Int, candidates: [Candidate])? {
        let rest = max(0, onset - Self.quietProbes - earliest)
        let step = max(1, (rest + Self.quietProbes - 1) / Self.quietProbes)
        var quiet = onset
        var found: (row: Int, candidates: [Candidate])?
        while found == nil && quiet > earliest {
            let row = onset - quiet < Self.quietProbes ? quiet - 1 : max(earliest, quiet - step)
            let candidates = ranked(row)
            if Self.showsADeviation(candidates) { found = (row, candidates) } else { quiet = row }
        }
        guard var (row, candidates) = found else { return nil }
        while quiet - row > 1 {
            let middle = (row + quiet) / 2
            let middleCandidates = ranked(middle)
            if Self.showsADeviation(middleCandidates) {
                (row, candidates) = (middle, middleCandidates)
            } else {
                quiet = middle
            }
        }
        return (row, candidates)
    }

    /// The rows before `onsetRow` where many metrics stood far from their level before the onset at once (in
    /// twice their median absolute deviations): an earlier incident in the window, which is no reference for
    /// normal. A metric family (percentiles of one measurement) counts once per row. Empty when nothing stands
    /// out or too little would be left.
    func unsettledRows(_ columns: [IncidentData.Column], families: [String], before onsetRow: Int) -> [Bool] {
        guard onsetRow >= 8 else { return [] }
        let flagged = self.concurrentMap(columns.indices) { index -> [Bool]? in
            let column = columns[index]
            var reference = column.values[..<onsetRow].compactMap { $0 }
            guard reference.count >= 8 else { return nil }
            // The median absolute deviation, whose breakdown point is a half: an incident that held a third of
            // the reference would stretch the IQR over itself.
            let median = OrderStatistics.quantile(0.5, of: &reference)
            var distances = reference.map { abs($0 - median) }
            let scale = max(2 * OrderStatistics.quantile(0.5, of: &distances), 0.05 * abs(median), 1e-9)
            return (0..<onsetRow).map { row in
                column.values[row].map { abs($0 - median) / scale > Self.unsettledDeviation } ?? false
            }
        }
        var far: [String: [Bool]] = [:]
        for (index, rows) in flagged.enumerated() {
            guard let rows else { continue }
            let family = families[index]
            if let known = far[family] {
                far[family] = zip(known, rows).map { $0 || $1 }
            } else {
                far[family] = rows
            }
        }
        let needed = max(Self.unsettledFamilies, Int((Self.unsettledShare * Double(far.count)).rounded(.up)))
        var counts = [Int](repeating: 0, count: onsetRow)
        for rows in far.values {
            for row in 0..<onsetRow where rows[row] { counts[row] += 1 }
        }
        let unsettled = counts.map { $0 >= needed }
        // Half the reference at least stays: more than that is no earlier incident but the window's normal.
        guard unsettled.count(where: { $0 }) * 2 <= onsetRow, unsettled.contains(true) else { return [] }
        return unsettled
    }

    /// The service and the metric's name without its digits: percentiles of one measurement (latency p50, p90,
    /// p99) are one family, which moves together and witnesses once.
    static func family(of column: IncidentData.Column) -> String {
        column.service + "\u{0}" + String(column.metric.unicodeScalars.filter { !("0"..."9").contains($0) })
    }

    /// A metric this many spreads from its reference level is far from it …
    static let unsettledDeviation = 10.0

    /// … and a row where at least this many metric families, and this share of them, are far is unsettled.
    static let unsettledFamilies = 3

    static let unsettledShare = 0.2

    /// Another row where at least this many metrics changed together (with its neighbours) is worth naming …
    static let otherChangeVotes = 2

    /// … when it lies at least this many rows from the onset and from every other one named.
    static let separateRows = 5

    /// Robust z-scores are clipped here before the change-point search, so one metric's huge move counts like any
    /// clear move and the onset is where many metrics change together.
    static let clip = 4.0

    /// A metric votes for its change point when its CUSUM statistic there reaches this (in squared robust
    /// spreads; a series without any change rarely passes 5) …
    static let clearChange = 20.0

    /// … and its median after the change lies this many of its spreads before the change away: a slow drift of
    /// a spread over many hours is significant, but it is not an incident.
    static let largeChange = 1.5

    /// … and at least this many of its values stand from the change on: a move on the last one or two rows of the
    /// window is where something may begin, not a level it has been seen to hold (the next incident starting as
    /// the window closes must not outvote the one the window was taken for).
    static let heldRows = 3

    /// Whether `values` after `split` sit far from where they were before, in the before part's own spread.
    static func isLarge(_ values: [Double?], splitAt split: Int) -> Bool {
        var before = values[..<split].compactMap { $0 }
        var after = values[split...].compactMap { $0 }
        guard before.count >= 2, !after.isEmpty else { return false }
        let (median, iqr) = Self.medianAndIQR(&before)
        let spread = max(iqr, 0.05 * abs(median), 1e-9)
        return abs(OrderStatistics.quantile(0.5, of: &after) - median) / spread >= Self.largeChange
    }

    /// Where most metrics change: each robustly standardised, clipped metric's CUSUM change point is a vote when
    /// the change is clear, and the row whose neighbourhood (±1 row) holds the most votes wins, the later on a
    /// tie. With no vote, the maximum over split points of the summed squared CUSUM statistics. Given a `window`,
    /// only splits inside it count, and with no vote there is no answer. `others` are the next rows by votes
    /// (at least `otherChangeVotes` in their neighbourhood), each `separateRows` from the winner and each other.
    func changePoint(
        _ columns: [IncidentData.Column],
        rows: Int,
        within window: Range<Int>?
    ) -> (row: Int?, others: [(row: Int, votes: Int)]) {
        let changes = self.concurrentMap(columns.indices) { Self.change(of: columns[$0], within: window) }
        var total = [Double](repeating: 0, count: rows)
        var votes = [Int](repeating: 0, count: rows)
        /// One vote per family of a service's metrics (names equal but for their digits: latency p50, p90, p99)
        /// and row: percentiles of one measurement move together and are one witness.
        var voted: Set<String> = []
        for (column, change) in zip(columns, changes) {
            guard let change else { continue }
            for (row, statistic) in zip(change.rows, change.statistics) { total[row] += statistic }
            if let split = change.clearSplit {
                if voted.insert("\(Self.family(of: column))\u{0}\(split)").inserted {
                    votes[split] += 1
                }
            }
        }
        if votes.contains(where: { $0 > 0 }) {
            let near = (0..<rows).map { row in
                (row > 0 ? votes[row - 1] : 0) + votes[row] + (row + 1 < rows ? votes[row + 1] : 0)
            }
            // Most votes nearby first, then most on the row itself, then the later row.
            let ranked = (1..<rows).sorted { (near[$0], votes[$0], $0) > (near[$1], votes[$1], $1) }
            let bestRow = ranked[0]
            var others: [(row: Int, votes: Int)] = []
            for row in ranked.dropFirst() where near[row] >= Self.otherChangeVotes && others.count < 3 {
                guard ([bestRow] + others.map(\.row)).allSatisfy({ abs($0 - row) >= Self.separateRows }) else {
                    continue
                }
                others.append((row, near[row]))
            }
            return (window.map { min(max(bestRow, $0.lowerBound), $0.upperBound - 1) } ?? bestRow, others)
        }
        if window != nil { return (nil, []) }
        var bestRow = rows / 2
        var bestValue = -1.0
        for split in 1..<rows where total[split] > bestValue {
            bestValue = total[split]
            bestRow = split
        }
        return (bestRow, [])
    }

    /// One metric's CUSUM statistic at each split over its values present (robustly standardised and clipped),
    /// for the rows in `window`, and the row of its strongest split when that change is clear, large and held.
    /// Nil for a metric with fewer than three values.
    static func change(
        of column: IncidentData.Column,
        within window: Range<Int>?
    ) -> (rows: [Int], statistics: [Double], clearSplit: Int?)? {
        var finite = column.values.compactMap { $0 }
        guard finite.count >= 3 else { return nil }
        let (median, iqr) = Self.medianAndIQR(&finite)
        let scale = max(iqr, 0.05 * abs(median), 1e-9)
        // The split runs over the values present; a change across a stretch of missing rows (logs that cover
        // a minute before the incident and the minutes after it) belongs to the first row that shows it.
        var z: [Double] = []
        var present: [Int] = []
        z.reserveCapacity(finite.count)
        present.reserveCapacity(finite.count)
        for (row, value) in column.values.enumerated() {
            guard let value else { continue }
            z.append(min(Self.clip, max(-Self.clip, (value - median) / scale)))
            present.append(row)
        }
        let sum = z.reduce(0, +)
        let n = Double(z.count)
        var prefix = 0.0
        var strongest = 0.0
        var strongestSplit = 0
        var valuesFromStrongest = 0
        var rows: [Int] = []
        var statistics: [Double] = []
        rows.reserveCapacity(z.count)
        statistics.reserveCapacity(z.count)
        for split in 1..<z.count {
            prefix += z[split - 1]
            guard window?.contains(present[split]) ?? true else { continue }
            let k = Double(split)
            let difference = prefix - k / n * sum
            let statistic = difference * difference / (k * (n - k) / n)
            rows.append(present[split])
            statistics.append(statistic)
            if statistic > strongest {
                strongest = statistic
                strongestSplit = present[split]
                valuesFromStrongest = z.count - split
            }
        }
        let clear =
            valuesFromStrongest >= Self.heldRows && strongest >= Self.clearChange
            && Self.isLarge(column.values, splitAt: strongestSplit)
        return (rows, statistics, clear ? strongestSplit : nil)
    }
}
