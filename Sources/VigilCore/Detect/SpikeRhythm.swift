// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Learns the beat of a series' recurring spikes (a nightly job, a cron every 100 minutes) from the times of its
/// surprising points above the baseline, so a spike on the beat counts only as far as it outgrows the beat's recent
/// spikes, and a spike as large as those away from the beat is as surprising as such spikes have been rare.
///
/// A beat is found when a spike lands one period after a spike of about its size (within a factor of ten in
/// probability) and three of the four periods before that held one too, within 3 % of the period or a sample and a
/// half; the shortest such period wins, and it is lost after three missed beats. The period need not divide a day:
/// a job every 24 h 03 min drifts across a day profile's bins, yet stays on its beat. A beat may have a second and
/// third spike a cycle (a backup at 02:00, a report at 02:30): an off-beat spike that lands at the same place in
/// the cycle as off-beat spikes in two cycles before it marks a phase, and spikes at a phase are on the beat. A beat
/// that has come seven times and then does not (the job did not run) is reported once, when the samples have
/// passed its time by twice the tolerance. O(1) per point, and at most a few hundred comparisons per spike; about
/// 210 bytes.
struct SpikeRhythm: Sendable {
    /// What the rhythm made of a point.
    enum Verdict: Sendable, Equatable {
        /// Not a surprising point, or no beat to judge it by.
        case none
        /// On the beat: expected.
        case onBeat
        /// As large as the beats, away from them.
        case offBeat
        /// The beat did not come: the samples have passed its time, with no spike on it.
        case missed
    }

    /// −log10 tail probability from which a point counts as a spike worth timing.
    static let eventLevel = 2.0
    static let ringSize = 8

    /// The starts of telling spikes.
    private var starts = InlineArray<8, Int64>(repeating: .min)  // 8 = ringSize
    /// Their spike surprises.
    private var sizes = InlineArray<8, Float>(repeating: 0)
    /// The end of the latest spike (a spike lasting several points is one event) and its verdict.
    private var lastEventEnd = Int64.min
    private var lastVerdict = Verdict.none
    /// Whether the absence of the next beat has been judged (reported, or let go because a spike came, late perhaps,
    /// or the samples had a gap over its time), until a beat comes. (Beside the verdict: both fit in the padding
    /// before the period.)
    var absenceJudged = false
    /// The beat: its period in seconds (0 when none is trusted), its latest start and its usual surprise.
    private var period = 0.0
    private var lastBeat = Int64.min
    /// The surprises of the latest four beats, oldest overwritten first.
    private var beatSizes = InlineArray<4, Float>(repeating: 0)
    private var beatCount = 0
    /// The beat size the latest beat was judged against.
    private var reference = 0.0
    /// Spikes as large as the beats seen off the beat, and points judged, since the beat was found.
    private var offBeats = 0.0
    private var pointsOnBeat = 0
    /// The usual time between samples.
    private var spacing = 0.0
    private var lastSeconds = Int64.min
    /// Places in the cycle (seconds after the beat) where off-beat spikes recur, and how often each was hit.
    private var phases = InlineArray<2, Float>(repeating: -1)
    private var phaseHits = InlineArray<2, Float>(repeating: 0)
    /// Hits that make a place in the cycle a phase of the beat: the spike, and two cycles before it.
    static let phaseHitsNeeded: Float = 3
    /// Beats since the beat was found, the spike that found it first, before one that does not come is reported:
    /// with the four spikes before that one, seven on time.
    static let beatsBeforeMissing = 3

    init() {}

    /// Appends the state to a checkpoint record.
    func write(to writer: inout PackedWriter) {
        for index in 0..<Self.ringSize {
            writer.write(Int(self.starts[index]))
            writer.write(Double(self.sizes[index]))
        }
        let verdict = self.lastVerdict == .onBeat ? 1 : self.lastVerdict == .offBeat ? 2 : 0
        for value in [Int(self.lastEventEnd), verdict, Int(self.lastBeat), self.pointsOnBeat, Int(self.lastSeconds)] {
            writer.write(value)
        }
        for index in 0..<4 { writer.write(Double(self.beatSizes[index])) }
        writer.write(self.beatCount)
        for value in [self.period, self.reference, self.offBeats, self.spacing] { writer.write(value) }
        for index in 0..<2 {
            writer.write(Double(self.phases[index]))
            writer.write(Double(self.phaseHits[index]))
        }
    }

    /// Reads what ``write(to:)`` wrote.
    init(reading reader: inout PackedReader) throws {
        for index in 0..<Self.ringSize {
            self.starts[index] = Int64(try reader.int())
            self.sizes[index] = Float(try reader.double())
        }
        self.lastEventEnd = Int64(try reader.int())
        let verdict = try reader.int()
        self.lastVerdict = verdict == 1 ? .onBeat : verdict == 2 ? .offBeat : .none
        self.lastBeat = Int64(try reader.int())
        self.pointsOnBeat = try reader.int()
        self.lastSeconds = Int64(try reader.int())
        for index in 0..<4 { self.beatSizes[index] = Float(try reader.double()) }
        self.beatCount = try reader.int()
        self.period = try reader.double()
        self.reference = try reader.double()
        self.offBeats = try reader.double()
        self.spacing = try reader.double()
        // Checkpoints written before phases end here.
        if !reader.isAtEnd {
            for index in 0..<2 {
                self.phases[index] = Float(try reader.double())
                self.phaseHits[index] = Float(try reader.double())
            }
        }
    }

    /// The largest of the latest four beats.
    private var beatSize: Double {
        Double(
            Swift.max(Swift.max(self.beatSizes[0], self.beatSizes[1]), Swift.max(self.beatSizes[2], self.beatSizes[3]))
        )
    }

    /// The beat's period in seconds, when one is trusted.
    var beatSeconds: Double? { self.hasBeat ? self.period : nil }

    /// Whether a beat is trusted.
    var hasBeat: Bool { self.period > 0 }

    /// Judges a point from its spike surprise (−log10 tail probability of its distance from the baseline) and
    /// whether it lies above the baseline, and returns the surprise to use for the whole point with the verdict
    /// behind it. Points above the baseline start spikes; one below may only carry on a spike that is falling back.
    @inline(__always)
    mutating func judge(
        seconds: Int64,
        spike: Double,
        upward: Bool,
        surprise: Double
    ) -> (surprise: Double, verdict: Verdict) {
        let step = self.lastSeconds == .min ? 0 : Double(seconds - self.lastSeconds)
        if step > 0 { self.spacing = self.spacing == 0 ? step : self.spacing + 0.05 * (step - self.spacing) }
        self.lastSeconds = seconds
        if self.hasBeat {
            self.pointsOnBeat += 1
            let sinceBeat = Double(seconds - self.lastBeat)
            // Three missed beats: the job stopped, or the beat was a coincidence.
            if sinceBeat > 3.5 * self.period {
                self.forgetBeat()
            } else if !self.absenceJudged && self.beatCount >= Self.beatsBeforeMissing
                && sinceBeat > self.period - self.tolerance(self.period)
            {
                if step > 3 * self.spacing || (upward && spike >= Self.eventLevel) {
                    // The samples stopped over the beat's time (nothing says the job did not run), or a spike came,
                    // late perhaps, and is judged as one.
                    self.absenceJudged = true
                } else if sinceBeat > self.period + 2 * self.tolerance(self.period) {
                    self.absenceJudged = true
                    return (surprise, .missed)
                }
            }
        }
        guard spike >= Self.eventLevel else { return (surprise, .none) }
        return self.judgeSpike(seconds: seconds, spike: spike, upward: upward, surprise: surprise)
    }

    /// The rare path: a surprising point.
    @inline(never)
    private mutating func judgeSpike(
        seconds: Int64,
        spike: Double,
        upward: Bool,
        surprise: Double
    ) -> (surprise: Double, verdict: Verdict) {
        let gap = Swift.max(3 * self.spacing, 1)
        if self.lastEventEnd != .min, Double(seconds - self.lastEventEnd) <= gap {
            // The same spike, still going.
            self.lastEventEnd = seconds
            return (self.adjust(surprise, spike: spike, verdict: self.lastVerdict), self.lastVerdict)
        }
        // A dip starts no event: one where a beat was expected (a day profile that learnt the job) is the run that
        // did not come, not a beat.
        guard upward else { return (surprise, .none) }
        self.lastEventEnd = seconds
        let verdict = self.hasBeat ? self.placeOnBeat(seconds, spike: spike) : self.findBeat(seconds, spike: spike)
        self.remember(seconds, size: spike)
        self.lastVerdict = verdict
        return (self.adjust(surprise, spike: spike, verdict: verdict), verdict)
    }

    /// Keeps a spike's start in place of the least telling one: the smallest, once age has worn it down by one
    /// order of magnitude per 1,000 samples, so the noise between two beats does not push the earlier beats out.
    private mutating func remember(_ seconds: Int64, size: Double) {
        var slot = 0
        var weakest = Double.infinity
        for index in 0..<Self.ringSize {
            guard self.starts[index] != .min else {
                slot = index
                break
            }
            let age = Double(seconds - self.starts[index]) / Swift.max(self.spacing, 1)
            let worth = Double(self.sizes[index]) - 0.001 * age
            if worth < weakest {
                weakest = worth
                slot = index
            }
        }
        self.starts[slot] = seconds
        self.sizes[slot] = Float(size)
    }

    /// How far from a period an interval may land and still be on the beat.
    private func tolerance(_ period: Double) -> Double {
        Swift.max(0.03 * period, 1.5 * self.spacing)
    }

    /// A beat is trusted when this spike lands one, two and three periods after earlier ones.
    private mutating func findBeat(_ seconds: Int64, spike: Double) -> Verdict {
        var found = Double.infinity
        var largest = spike
        for index in 0..<Self.ringSize where self.starts[index] != .min {
            let candidate = Double(seconds - self.starts[index])
            guard candidate >= 10 * self.spacing, candidate < found, Double(self.sizes[index]) >= spike - 1 else {
                continue
            }
            // Two more of the next three beats back: a beat may be skipped (a smaller spike, a gap).
            let tolerance = self.tolerance(candidate)
            var matches = 0
            var size = Swift.max(spike, Double(self.sizes[index]))
            for beats in 2...5 {
                let target = Double(seconds) - Double(beats) * candidate
                if let match = self.start(near: target, within: tolerance, atLeast: spike - 1) {
                    matches += 1
                    size = Swift.max(size, match)
                }
            }
            if matches >= 3 {
                found = candidate
                largest = size
            }
        }
        guard found.isFinite else { return .none }
        self.period = found
        self.lastBeat = seconds
        self.beatSizes = InlineArray(repeating: 0)
        self.beatSizes[0] = Float(largest)
        self.beatCount = 1
        self.reference = largest
        self.offBeats = 0
        self.pointsOnBeat = 0
        self.phases = InlineArray(repeating: -1)
        self.phaseHits = InlineArray(repeating: 0)
        self.absenceJudged = false
        return .onBeat
    }

    /// The size of the largest remembered spike within `tolerance` of `target` and at least `size`, or nil.
    private func start(near target: Double, within tolerance: Double, atLeast size: Double) -> Double? {
        var largest: Double?
        for index in 0..<Self.ringSize where self.starts[index] != .min {
            let found = Double(self.sizes[index])
            if abs(Double(self.starts[index]) - target) <= tolerance && found >= size {
                largest = Swift.max(largest ?? found, found)
            }
        }
        return largest
    }

    /// Times a spike against a trusted beat.
    private mutating func placeOnBeat(_ seconds: Int64, spike: Double) -> Verdict {
        let interval = Double(seconds - self.lastBeat)
        let beats = (interval / self.period).rounded()
        let tolerance = self.tolerance(self.period)
        if beats >= 1, abs(interval - beats * self.period) <= tolerance * beats.squareRoot() {
            if beats == 1 { self.period += 0.2 * (interval - self.period) }
            self.lastBeat = seconds
            self.reference = self.beatSize
            self.beatSizes[self.beatCount % 4] = Float(spike)
            self.beatCount += 1
            self.absenceJudged = false
            return .onBeat
        }
        // Half a period on: a beat with two spikes a cycle, not a stray one.
        let half = (2 * interval / self.period).rounded()
        guard spike >= self.beatSize - 1, abs(2 * interval - half * self.period) > 2 * tolerance else { return .none }
        if self.hitPhase(at: interval - (interval / self.period).rounded(.down) * self.period, tolerance: tolerance) {
            return .onBeat
        }
        self.offBeats += 1
        return .offBeat
    }

    /// Counts an off-beat spike `offset` seconds into the cycle against the recurring places, and says whether it
    /// lands on a phase of the beat. A place never seen before takes the slot of the least hit one.
    private mutating func hitPhase(at offset: Double, tolerance: Double) -> Bool {
        var weakest = 0
        for index in 0..<2 {
            let phase = Double(self.phases[index])
            // Near the cycle's end counts as near its start.
            let apart = Swift.min(abs(offset - phase), self.period - abs(offset - phase))
            if phase >= 0, apart <= tolerance {
                self.phaseHits[index] += 1
                return self.phaseHits[index] >= Self.phaseHitsNeeded
            }
            if self.phaseHits[index] < self.phaseHits[weakest] { weakest = index }
        }
        self.phases[weakest] = Float(offset)
        self.phaseHits[weakest] = 1
        return false
    }

    /// A beat's spike counts only as far as it exceeds the usual beat; an off-beat spike as large as the beats
    /// counts as rare as such spikes have been since the beat was found.
    private func adjust(_ surprise: Double, spike: Double, verdict: Verdict) -> Double {
        switch verdict {
        case .none, .missed: return surprise
        case .onBeat:
            // Ten times rarer than the largest recent beat before it counts at all.
            return Swift.min(surprise, Swift.max(Self.eventLevel, spike - self.reference - 1 + Self.eventLevel))
        case .offBeat:
            let rarity = (Double(self.pointsOnBeat) + 1) / (self.offBeats - 0.5)
            return Swift.max(surprise, TailCalibrator.fastLog10(Swift.max(rarity, 1)))
        }
    }

    private mutating func forgetBeat() {
        self.period = 0
        self.lastBeat = .min
    }
}
