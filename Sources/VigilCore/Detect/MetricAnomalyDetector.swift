// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Scores one metric series point by point and decides when to alert, with the evidence behind each alert.
///
/// An ensemble of cheap streaming models, all causal (a point is judged before it is learnt) and O(1) per point
/// in about 4 KiB:
/// - **baselines**: the recent level (fast exponential average, or the last value, whichever is closer) and a
///   day and a week ``SeasonalProfile``. A profile becomes the baseline once it has seen two periods and its
///   long-run squared error is well below the recent level's, which is how the seasonal period is found.
/// - **spike and dip**: the point's distance from the baseline in units of the baseline's own recent error,
///   and how far it lands outside the whole range seen, in ranges (a step series whose recent error is tiny
///   would otherwise make every move look alike), measured from where the range stood when the series left it,
///   so a climb that sets a new high day after day (a daily swing drifting up) is measured from yesterday's high,
///   not from the point before. A spike that stays in the lower half of the range seen (a dip in the upper half)
///   counts as far as it reaches across it, as a chart shows it.
/// - **level shift**: averages over 2, 8 and 64 points against a slow level (each point with its season removed
///   on a seasonal baseline, so the day's own swing is no shift), in the same units, so a sustained change that
///   no single point shows still stands out.
/// - **flatline**: a run of identical values far longer than any run before it, on a series that used to move.
/// - **rhythm**: a ``SpikeRhythm`` times the spikes; once they keep a beat (a nightly job), a spike on the beat
///   counts only as far as it outgrows the beat's recent spikes, one as large away from the beat is off-beat, and a
///   beat that held and then does not come is a missed beat.
///
/// Each statistic is calibrated into a tail probability by its own ``TailCalibrator``; the score is the most
/// surprising one on a log scale (1e-6 maps to 1). Alerts come in episodes: none during the warm-up, one per
/// episode, and a rest period after it in which scores are halved (repeats would only add noise) unless the
/// deviation escalates well beyond the episode's peak (in score, or, as scores saturate, ten times further from
/// the expected value than anything in the episode), which alerts again. The error never counts as smaller
/// than 1 % of the range seen or 1 % of the level, so tiny wiggles on a flat series never page anyone, and a point
/// less than one error from its expected value is no spike however regular the series has been. A repeated
/// value (a gauge held between scrapes) teaches the error nothing, and the warm-up counts moves as well as
/// points.
public struct MetricAnomalyDetector: Sendable, PackedCodable {
    /// Knobs, one set for every series.
    public struct Configuration: Sendable, Codable, Equatable {
        /// Points before any alert (the baselines form) …
        public var warmUp = 150
        /// … and moves (points that differ from the one before): a gauge scraped every 15 s and re-sent every
        /// second has seen 15 times fewer samples than points. A series that never moved may alert at its first
        /// move, judged against the level floor.
        public var warmUpMoves = 20
        /// Points after an alert during which scores are halved and no other alert fires …
        public var rest = 200
        /// … unless its score beats the episode's peak by this much (a small blip must not hide a collapse) …
        public var escalation = 0.2
        /// … or, as scores saturate, its distance from the expected value is this many times the episode's
        /// largest (a CPU at 100 % after a dip of a few spreads).
        public var escalationFactor = 10.0
        /// A rest also ends once the series has stayed quiet (inside its band, scoring under half the alert
        /// threshold) this many seconds since the alert (0: the rest runs its course). In `vigil serve`, 15
        /// minutes, the default time an incident takes to resolve: 150 points of one-minute data are two and a half
        /// hours, and a fault that comes back after a quiet quarter of an hour is a new episode.
        public var rearmSeconds = 0.0
        /// Score at which an alert fires.
        public var alertThreshold = 0.43
        /// −log10 of the tail probability that maps to a score of 1.
        public var saturationLog10 = 6.0
        /// The error never counts as smaller than this share of the range seen …
        public var minimumRelativeError = 0.01
        /// … nor than this share of the series' level (a memory gauge that ticks by one page in 95 MB is still
        /// flat), and the range never as narrower than five times it.
        public var minimumRelativeLevel = 0.01
        /// Creates the defaults.
        public init() {}
    }

    /// Which baseline the detector judged a point against.
    public enum Baseline: String, Sendable, Codable, Equatable {
        /// The recent level (no seasonality found).
        case recent
        /// The same time of day.
        case daily
        /// The same time of the week.
        case weekly
    }

    /// Where a point stands against its band.
    enum BandState: UInt8 {
        /// Beyond the band.
        case outside
        /// Inside it, but scoring at least half the alert threshold (a level shift's point may sit inside).
        case inside
        /// Inside it and unsurprising.
        case quiet
    }

    /// Which detector found a point surprising.
    public enum Signal: String, Sendable, Codable, Equatable {
        /// Nothing unusual.
        case none
        /// A point far above the baseline.
        case spike
        /// A point far below the baseline.
        case dip
        /// The level moved up and stayed.
        case levelShiftUp = "level_shift_up"
        /// The level moved down and stayed.
        case levelShiftDown = "level_shift_down"
        /// The series stopped changing.
        case flatline
        /// A spike as large as the series' recurring ones (a nightly job), away from their beat.
        case offBeat = "off_beat"
        /// The series' recurring spike (a nightly job) did not come on its beat.
        case missedBeat = "missed_beat"
    }

    /// What moved in a level shift: the average of the latest points against the level it left (the point itself
    /// may sit inside its band).
    public struct Shift: Sendable, Equatable {
        /// How many latest points the average spans (2, 8 or 64, exponentially weighted).
        public var points: Int
        /// Their average (on a seasonal baseline: `level` plus their average distance from their expectations).
        public var mean: Double
        /// The level the average is judged against: the slow level, or on a seasonal baseline the profile's
        /// expectation at this point (the day's swing taken out).
        public var level: Double
    }

    /// A run of equal values that alerted as a flatline.
    public struct Freeze: Sendable, Equatable {
        /// How many points in a row held the value, this one included.
        public var points: Int
        /// The longest run of equal values before it, in points.
        public var longestBefore: Int
    }

    /// The judgement of one point.
    public struct Result: Sendable, Equatable {
        /// A calibrated surprise in [0, 1]: −log10 of the tail probability over ``Configuration/saturationLog10``.
        public var score: Double
        /// Whether an alert fires here (once per episode).
        public var isAnomaly: Bool
        /// The detector behind the score.
        public var signal: Signal
        /// The baseline the point was judged against.
        public var baseline: Baseline
        /// The value expected at this time.
        public var expected: Double
        /// Half the width of the normal band around `expected`: four errors, or nearer where the series is so regular
        /// that a smaller distance already scores an alert (never under one error).
        public var bandHalfWidth: Double
        /// Whether the series has never been negative, so its band stops at 0.
        public var neverNegative: Bool
        /// Seconds the series has been outside its band, up to and including this point (0 when inside).
        public var secondsOutside: Double
        /// Points the detector had learnt from before this one.
        public var learntPoints: Int
        /// The period in seconds of the recurring spikes this point was judged by, on or off their beat (nil for
        /// an ordinary point, or when the series keeps no beat).
        public var beatSeconds: Double? = nil
        /// For a level shift, the average that moved and the level it left.
        public var shift: Shift? = nil
        /// For a spike or dip that scored by landing beyond the range seen: the edge of the range the series left
        /// (its highest or lowest value before the climb, drawn towards the new extreme over about 200 points).
        public var rangeEdge: Double? = nil
        /// For a flatline, how many points in a row have held this value, and the longest run before.
        public var freeze: Freeze? = nil

        /// The band's lower edge: `expected` − `bandHalfWidth`, no lower than 0 on a series that has never been
        /// negative (a CPU's band is not −2.8…5.1) …
        public var lower: Double {
            self.neverNegative ? Swift.max(self.expected - self.bandHalfWidth, 0) : self.expected - self.bandHalfWidth
        }
        /// … and its upper edge.
        public var upper: Double { self.expected + self.bandHalfWidth }
    }

    /// Points that only settle the error estimates before the calibrators learn.
    static let settling = 30
    /// The level-shift averages' weights: spans of 2, 8 and 64 points (weight 2 / (span + 1)).
    static let shiftWeights = (2.0 / 3, 2.0 / 9, 2.0 / 65)
    /// A spike or dip whose point reaches this share of the range seen (from its far end) counts in full; one
    /// that reaches less counts in proportion.
    static let fullReach = 0.5
    /// How fast the edge a series left follows it while it stays beyond: about 200 points, so a series that
    /// settled at a new level is judged from there, not from where it was before.
    static let edgeWeight = 0.005
    /// How long a range takes to form: the range statistic's history starts afresh once a series has been
    /// watched this long, since in its first hours every new high is a large share of a small range.
    static let rangeFormingSeconds: Int64 = 86_400
    public private(set) var configuration: Configuration
    private var count = 0
    private var level = 0.0
    private var slowLevel = 0.0
    private var last = 0.0
    private var recentError = 0.0
    private var minimum = Double.infinity
    private var maximum = -Double.infinity
    // Named fields rather than arrays of structs: no nested copy-on-write checks on the hot path.
    private var daily = SeasonalProfile(period: 86_400, binCount: 144)
    private var weekly = SeasonalProfile(period: 7 * 86_400, binCount: 168)
    private var dailyError = 0.0
    private var weeklyError = 0.0
    private var dailySquaredError = 0.0
    private var weeklySquaredError = 0.0
    private var recentSquaredError = 0.0
    /// The level-shift averages of the latest 2, 8 and 64 points, each point taken with its season removed
    /// when a seasonal profile was the baseline (less the profile's expectation, plus the slow level).
    private var shortMean = 0.0
    private var mediumMean = 0.0
    private var longMean = 0.0
    private var pointCalibrator = TailCalibrator()
    private var shortCalibrator = TailCalibrator()
    private var mediumCalibrator = TailCalibrator()
    private var longCalibrator = TailCalibrator()
    /// How far a point lands outside everything seen, in ranges: a jump from 1 to 100 on a series that moved
    /// between 0.8 and 2 is off the scale however noisy its point errors were.
    private var rangeCalibrator = TailCalibrator()
    /// Where the range stood when the series left it (its highest value before a climb above it, its lowest
    /// before a fall below), while the series stays beyond; NaN inside the range.
    private var rangeEdge = Double.nan
    /// The beat of recurring spikes, if the series has one.
    private var rhythm = SpikeRhythm()
    private var pointsSinceAlert = Int.max / 2
    private var episodePeak = 0.0
    /// The largest distance from the expected value in the episode.
    private var episodeDistance = 0.0
    /// Where the latest point stood against its band, and since when it has stood so.
    private var standing = BandState.inside
    // (Two flags beside `standing`, in what would be padding.)
    /// Whether the series left its range upwards (see `rangeEdge`).
    private var leftUpwards = false
    /// Whether the range calibrator has started afresh after ``rangeFormingSeconds``.
    private var rangeFormed = false
    private var standingSince: Timestamp?
    private var run = 0
    private var longestRun = 0
    private var moves = 0

    /// Creates a detector with no history.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// How many points the detector has seen.
    public var pointCount: Int { self.count }

    /// Changes the score at which alerts fire (a per-series rule; applied again when a checkpoint is restored,
    /// so the rules of the running server hold).
    public mutating func setAlertThreshold(_ threshold: Double) { self.configuration.alertThreshold = threshold }

    /// Changes how long a quiet series rests after an alert at most (``Configuration/rearmSeconds``; applied again
    /// when a checkpoint is restored, so the running server decides).
    mutating func setRearmSeconds(_ seconds: Double) { self.configuration.rearmSeconds = seconds }

    /// Bytes this detector holds: its inline fields plus the storage of its arrays (profiles, calibrators).
    public var stateBytes: Int {
        let inline =
            MemoryLayout<Self>.size - 2 * MemoryLayout<SeasonalProfile>.size - 5 * MemoryLayout<TailCalibrator>.size
        return inline + self.daily.stateBytes + self.weekly.stateBytes + self.pointCalibrator.stateBytes
            + self.shortCalibrator.stateBytes + self.mediumCalibrator.stateBytes + self.longCalibrator.stateBytes
            + self.rangeCalibrator.stateBytes
    }

    /// The whole state, packed: checkpoints hold one JSON value per series, not a hundred.
    func write(to writer: inout PackedWriter) {
        let c = self.configuration
        for value in [c.warmUp, c.rest, self.count, self.pointsSinceAlert, self.run, self.longestRun] {
            writer.write(value)
        }
        for value in [
            c.alertThreshold, c.saturationLog10, c.minimumRelativeError, self.level, self.slowLevel, self.last,
            self.recentError, self.minimum, self.maximum, self.dailyError, self.weeklyError, self.dailySquaredError,
            self.weeklySquaredError, self.recentSquaredError, self.shortMean, self.mediumMean, self.longMean,
        ] {
            writer.write(value)
        }
        writer.write(self.standing == .outside ? self.standingSince.map { Int($0.nanoseconds) } ?? Int.min : Int.min)
        self.daily.write(to: &writer)
        self.weekly.write(to: &writer)
        for calibrator in [
            self.pointCalibrator, self.shortCalibrator, self.mediumCalibrator, self.longCalibrator,
            self.rangeCalibrator,
        ] {
            calibrator.write(to: &writer)
        }
        writer.write(self.configuration.escalation)
        writer.write(self.episodePeak)
        writer.write(self.configuration.minimumRelativeLevel)
        writer.write(self.configuration.warmUpMoves)
        writer.write(self.moves)
        writer.write(self.configuration.escalationFactor)
        writer.write(self.episodeDistance)
        self.rhythm.write(to: &writer)
        writer.write(self.configuration.rearmSeconds)
        writer.write(self.standing == .quiet ? self.standingSince.map { Int($0.nanoseconds) } ?? Int.min : Int.min)
        writer.write(self.rhythm.absenceJudged ? 1 : 0)
        writer.write(self.rangeEdge)
        writer.write((self.leftUpwards ? 1 : 0) | (self.rangeFormed ? 2 : 0))
    }

    /// Reads what ``write(to:)`` wrote.
    init(reading reader: inout PackedReader) throws {
        var configuration = Configuration()
        configuration.warmUp = try reader.int()
        configuration.rest = try reader.int()
        self.init(configuration: configuration)
        self.count = try reader.int()
        self.pointsSinceAlert = try reader.int()
        self.run = try reader.int()
        self.longestRun = try reader.int()
        var doubles: [Double] = []
        for _ in 0..<17 { doubles.append(try reader.double()) }
        self.configuration.alertThreshold = doubles[0]
        self.configuration.saturationLog10 = doubles[1]
        self.configuration.minimumRelativeError = doubles[2]
        (self.level, self.slowLevel, self.last, self.recentError) = (doubles[3], doubles[4], doubles[5], doubles[6])
        (self.minimum, self.maximum, self.dailyError, self.weeklyError) = (
            doubles[7], doubles[8], doubles[9], doubles[10]
        )
        (self.dailySquaredError, self.weeklySquaredError, self.recentSquaredError) = (
            doubles[11], doubles[12], doubles[13]
        )
        (self.shortMean, self.mediumMean, self.longMean) = (doubles[14], doubles[15], doubles[16])
        let outside = try reader.int()
        if outside != Int.min {
            (self.standing, self.standingSince) = (.outside, Timestamp(nanoseconds: Int64(outside)))
        }
        self.daily = try SeasonalProfile(reading: &reader)
        self.weekly = try SeasonalProfile(reading: &reader)
        self.pointCalibrator = try TailCalibrator(reading: &reader)
        self.shortCalibrator = try TailCalibrator(reading: &reader)
        self.mediumCalibrator = try TailCalibrator(reading: &reader)
        self.longCalibrator = try TailCalibrator(reading: &reader)
        // Checkpoints written before the range calibrator and escalation existed end here.
        if !reader.isAtEnd {
            self.rangeCalibrator = try TailCalibrator(reading: &reader)
            self.configuration.escalation = try reader.double()
            self.episodePeak = try reader.double()
            self.configuration.minimumRelativeLevel = try reader.double()
        }
        // … and those written before moves were counted, here (they count as warmed up).
        if !reader.isAtEnd {
            self.configuration.warmUpMoves = try reader.int()
            self.moves = try reader.int()
        } else {
            self.moves = self.count
        }
        // … and those written before escalation by distance, here.
        if !reader.isAtEnd {
            self.configuration.escalationFactor = try reader.double()
            self.episodeDistance = try reader.double()
        }
        // … and those written before spike rhythms, here.
        if !reader.isAtEnd { self.rhythm = try SpikeRhythm(reading: &reader) }
        // … and those written before a rest could end early, here.
        if !reader.isAtEnd {
            self.configuration.rearmSeconds = try reader.double()
            let quiet = try reader.int()
            if quiet != Int.min { (self.standing, self.standingSince) = (.quiet, Timestamp(nanoseconds: Int64(quiet))) }
        }
        // … and those written before a missed beat was reported, here.
        if !reader.isAtEnd { self.rhythm.absenceJudged = try reader.int() == 1 }
        // … and those written before the edge a series left was kept, here (their range history stays).
        if !reader.isAtEnd {
            self.rangeEdge = try reader.double()
            let flags = try reader.int()
            (self.leftUpwards, self.rangeFormed) = (flags & 1 != 0, flags & 2 != 0)
        } else {
            self.rangeFormed = true
        }
    }

    /// Judges a point, then learns from it.
    public mutating func update(time: Timestamp, value: Double) -> Result {
        let seconds = time.wholeSeconds
        self.count += 1
        guard self.count > 1 else {
            self.level = value
            self.slowLevel = value
            self.last = value
            self.minimum = value
            self.maximum = value
            self.shortMean = value
            self.mediumMean = value
            self.longMean = value
            self.daily.learn(value, at: seconds)
            self.weekly.learn(value, at: seconds)
            return Result(
                score: 0,
                isAnomaly: false,
                signal: .none,
                baseline: .recent,
                expected: value,
                bandHalfWidth: 0,
                neverNegative: value >= 0,
                secondsOutside: 0,
                learntPoints: 0
            )
        }
        let (lowestSeen, highestSeen) = (self.minimum, self.maximum)
        let range = highestSeen - lowestSeen
        let outside = self.leaveRange(value, seconds: seconds)
        self.minimum = Swift.min(self.minimum, value)
        self.maximum = Swift.max(self.maximum, value)
        let floor = Swift.max(
            self.configuration.minimumRelativeError * (self.maximum - self.minimum),
            self.configuration.minimumRelativeLevel * abs(self.slowLevel),
            1e-9
        )

        // The baseline: the recent level, or a seasonal profile that has earned it.
        var baseline = Baseline.recent
        var expected = abs(value - self.level) < abs(value - self.last) ? self.level : self.last
        var error = self.recentError
        var bestSquared = 0.6 * self.recentSquaredError
        let bins = (self.daily.bin(at: seconds), self.weekly.bin(at: seconds))
        let predictions = (self.daily.predict(bin: bins.0), self.weekly.predict(bin: bins.1))
        if let prediction = predictions.0, self.dailySquaredError < bestSquared, self.daily.isReady(at: seconds) {
            bestSquared = self.dailySquaredError
            expected = prediction
            error = self.dailyError
            baseline = .daily
        }
        if let prediction = predictions.1, self.weeklySquaredError < bestSquared, self.weekly.isReady(at: seconds) {
            expected = prediction
            error = self.weeklyError
            baseline = .weekly
        }
        let scale = Swift.max(error, floor)

        // Spike or dip, then level shifts at three spans: the most surprising one speaks.
        let inverseScale = 1 / scale
        // The first points only settle the error estimates: their ratios would teach the calibrators a tail
        // that is not there.
        let learning = self.count > Self.settling
        let errors = abs(value - expected) * inverseScale
        var surprise = self.pointCalibrator.judge(errors, learning: learning)
        // A point less than one error from its expectation is no spike, however regular the series has been (a
        // smooth curve whose slope grows by a tenth of its floor would otherwise set a record).
        surprise *= Swift.min(1, errors)
        var signal: Signal = value >= expected ? .spike : .dip
        // A spike that stays in the lower part of the range already seen (a dip in the upper part) is no larger
        // than moves the series has made before: it counts as far as it reaches across that range.
        if range > 0 {
            let reach = (value >= expected ? value - lowestSeen : highestSeen - value) / range
            surprise *= Swift.min(1, Swift.max(0, reach) / Self.fullReach)
        }
        let breach = self.rangeCalibrator.judge(
            outside.distance
                / Swift.max(range, 5 * self.configuration.minimumRelativeLevel * abs(self.slowLevel), 1e-9),
            learning: learning
        )
        let beyondRange = outside.distance > 0 && breach > surprise
        surprise = Swift.max(surprise, breach)
        let spikeSurprise = surprise
        // On a seasonal baseline the averages take the point with its season removed (its distance from the
        // profile's expectation, from the slow level), so the day's own swing does not read as a shift.
        let deseasoned = baseline == .recent ? value : value - expected + self.slowLevel
        self.shortMean += Self.shiftWeights.0 * (deseasoned - self.shortMean)
        self.mediumMean += Self.shiftWeights.1 * (deseasoned - self.mediumMean)
        self.longMean += Self.shiftWeights.2 * (deseasoned - self.longMean)
        let shifts = (
            self.shortCalibrator.judge(abs(self.shortMean - self.slowLevel) * inverseScale, learning: learning),
            self.mediumCalibrator.judge(abs(self.mediumMean - self.slowLevel) * inverseScale, learning: learning),
            self.longCalibrator.judge(abs(self.longMean - self.slowLevel) * inverseScale, learning: learning)
        )
        /// The span of the winning average, when a level shift speaks (0 otherwise).
        var shiftPoints = 0
        if shifts.0 > surprise {
            surprise = shifts.0
            signal = self.shortMean >= self.slowLevel ? .levelShiftUp : .levelShiftDown
            shiftPoints = 2
        }
        if shifts.1 > surprise {
            surprise = shifts.1
            signal = self.mediumMean >= self.slowLevel ? .levelShiftUp : .levelShiftDown
            shiftPoints = 8
        }
        if shifts.2 > surprise {
            surprise = shifts.2
            signal = self.longMean >= self.slowLevel ? .levelShiftUp : .levelShiftDown
            shiftPoints = 64
        }
        // Told against the slow level, or on a seasonal baseline against this point's expectation.
        let shiftLevel = baseline == .recent ? self.slowLevel : expected
        let shiftMean =
            shiftLevel - self.slowLevel
            + (shiftPoints == 2 ? self.shortMean : shiftPoints == 8 ? self.mediumMean : self.longMean)
        var beat: Double?
        var missedBeat = false
        if learning {
            let judged = self.rhythm.judge(
                seconds: seconds,
                spike: spikeSurprise,
                upward: value >= expected,
                surprise: surprise
            )
            surprise = judged.surprise
            if judged.verdict == .offBeat { signal = .offBeat }
            missedBeat = judged.verdict == .missed
            if judged.verdict == .onBeat || judged.verdict == .offBeat { beat = self.rhythm.beatSeconds }
        }
        var score = Swift.min(1, surprise / self.configuration.saturationLog10)
        // A beat that did not come is a verdict, as a freeze is: it alerts at the threshold.
        if missedBeat && score < self.configuration.alertThreshold {
            score = self.configuration.alertThreshold
            signal = .missedBeat
            beat = self.rhythm.beatSeconds
        }

        // Held values are not samples: until the series has moved often enough (or while it never moved), the
        // tails are guesses.
        let movedEnough = self.moves >= self.configuration.warmUpMoves || (self.moves == 0 && value != self.last)
        if value != self.last { self.moves += 1 }

        // A freeze: a run of equal values three times longer than any before, on a series that used to move.
        var freeze: Freeze?
        if value == self.last {
            self.run += 1
            if self.run == Swift.max(12, 3 * self.longestRun) && self.count - self.run > 100 {
                score = Swift.max(score, self.configuration.alertThreshold)
                signal = .flatline
                freeze = Freeze(points: self.run + 1, longestBefore: self.longestRun + 1)
            }
        } else {
            self.longestRun = Swift.max(self.longestRun, self.run)
            self.run = 0
        }

        self.learn(value, seconds: seconds, bins: bins, predictions: predictions, cap: 10 * scale)

        // Four errors, or nearer where this series is so regular that a smaller distance already scores an alert
        // (never under one error, below which a point is no spike): a spike that alerts lies outside its band.
        let alertErrors = self.pointCalibrator.statistic(
            reaching: self.configuration.alertThreshold * self.configuration.saturationLog10
        )
        let band = Swift.min(4, Swift.max(1, alertErrors)) * scale
        let state: BandState =
            abs(value - expected) > band
            ? .outside : score < 0.5 * self.configuration.alertThreshold ? .quiet : .inside
        if state != self.standing || self.standingSince == nil { (self.standing, self.standingSince) = (state, time) }
        let secondsInState = self.standingSince.map { time.seconds - $0.seconds } ?? 0
        let secondsOutside = state == .outside ? secondsInState : 0

        // Episodes: one alert, then a rest in which repeats count half, until the series has stayed quiet (inside
        // its band, scoring under half the alert threshold) for `rearmSeconds`, when set.
        if self.configuration.rearmSeconds > 0 && state == .quiet && self.pointsSinceAlert < self.configuration.rest
            && secondsInState >= self.configuration.rearmSeconds
        {
            self.pointsSinceAlert = self.configuration.rest
        }
        self.pointsSinceAlert += 1
        var alert = false
        // How far the point or the recent means are from where they were expected, in the series' own units (a
        // scale grows with the range, and so with the very point that escalates).
        // (Two at a time: the variadic `max` would allocate an array on every point.)
        let distance = Swift.max(
            Swift.max(abs(value - expected), abs(self.shortMean - self.slowLevel)),
            Swift.max(abs(self.mediumMean - self.slowLevel), abs(self.longMean - self.slowLevel))
        )
        let escalates =
            score >= self.episodePeak + self.configuration.escalation
            || (score >= self.configuration.alertThreshold
                && distance > self.configuration.escalationFactor * Swift.max(self.episodeDistance, scale))
        if self.count > self.configuration.warmUp && movedEnough && score >= self.configuration.alertThreshold
            && (self.pointsSinceAlert > self.configuration.rest || escalates)
        {
            alert = true
            self.pointsSinceAlert = 0
            self.episodePeak = score
            self.episodeDistance = distance
        } else if self.pointsSinceAlert <= self.configuration.rest {
            self.episodePeak = Swift.max(self.episodePeak, score)
            self.episodeDistance = Swift.max(self.episodeDistance, distance)
            score *= 0.5
        }
        if score < 0.05 { signal = .none }
        return Result(
            score: score,
            isAnomaly: alert,
            signal: signal,
            baseline: baseline,
            expected: expected,
            bandHalfWidth: band,
            neverNegative: self.minimum >= 0,
            secondsOutside: secondsOutside,
            learntPoints: self.count - 1,
            beatSeconds: beat,
            shift: signal == .levelShiftUp || signal == .levelShiftDown
                ? Shift(points: shiftPoints, mean: shiftMean, level: shiftLevel) : nil,
            rangeEdge: beyondRange && (signal == .spike || signal == .dip) ? outside.edge : nil,
            freeze: signal == .flatline ? freeze : nil
        )
    }

    /// How far a point lands beyond the range seen, measured from the edge the series left (its highest value
    /// before this climb, its lowest before this fall), and that edge; then draws the edge towards the new
    /// extreme. The range statistic's history starts afresh once the series has been watched for
    /// ``rangeFormingSeconds``.
    private mutating func leaveRange(_ value: Double, seconds: Int64) -> (distance: Double, edge: Double) {
        if !self.rangeFormed, let first = self.daily.firstSeen, seconds - first >= Self.rangeFormingSeconds {
            self.rangeCalibrator = TailCalibrator()
            self.rangeFormed = true
        }
        // Back inside the range it left (a comparison with NaN is false: no excursion to end).
        if self.leftUpwards ? value <= self.rangeEdge : value >= self.rangeEdge { self.rangeEdge = .nan }
        var distance = 0.0
        if value > self.maximum || value < self.minimum {
            let upwards = value > self.maximum
            if self.rangeEdge.isNaN || self.leftUpwards != upwards {
                (self.rangeEdge, self.leftUpwards) = (upwards ? self.maximum : self.minimum, upwards)
            }
            distance = abs(value - self.rangeEdge)
        }
        let edge = self.rangeEdge
        if !edge.isNaN {
            let extreme = self.leftUpwards ? Swift.max(self.maximum, value) : Swift.min(self.minimum, value)
            self.rangeEdge += Self.edgeWeight * (extreme - edge)
        }
        return (distance, edge)
    }

    /// Updates every baseline and error estimate with a point already judged.
    private mutating func learn(
        _ value: Double,
        seconds: Int64,
        bins: (Int, Int),
        predictions: (Double?, Double?),
        cap: Double
    ) {
        let fast = 0.05
        // A repeated value is most often a gauge held between scrapes (a 15-s scrape re-sent every second): it
        // says nothing about how far the series moves, and letting it pull the error to 0 would make the next
        // ordinary move look impossible.
        if value != self.last {
            self.recentError +=
                fast * (Swift.min(Swift.min(abs(value - self.level), abs(value - self.last)), cap) - self.recentError)
        }
        let selection = 0.003
        let recentMiss = value - self.level
        self.recentSquaredError += selection * (recentMiss * recentMiss - self.recentSquaredError)
        let cap = cap
        func track(_ prediction: Double?, _ error: inout Double, _ squared: inout Double, recentSquared: Double) {
            if let prediction {
                let miss = value - prediction
                error += 0.02 * (Swift.min(abs(miss), cap) - error)
                squared += selection * (miss * miss - squared)
            } else {
                error += 0.02 * (cap - error)
                squared += selection * (4 * recentSquared - squared)
            }
        }
        track(predictions.0, &self.dailyError, &self.dailySquaredError, recentSquared: self.recentSquaredError)
        track(predictions.1, &self.weeklyError, &self.weeklySquaredError, recentSquared: self.recentSquaredError)
        self.daily.learn(value, at: seconds, bin: bins.0)
        self.weekly.learn(value, at: seconds, bin: bins.1)
        self.level += fast * (value - self.level)
        self.slowLevel += 0.005 * (value - self.slowLevel)
        self.last = value
    }
}
