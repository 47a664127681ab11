// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

@Suite struct LogSequenceDetectorTests {
    typealias Detector = LogSequenceDetector

    /// `sessions` requests writing `workflow` (event numbers) each, two at a time interleaved, one second apart;
    /// returns the surprises and the time after the last event.
    private func run(
        _ detector: inout Detector,
        workflow: [UInt32],
        sessions: Range<UInt64>,
        start: Int64 = 0
    ) -> (surprises: [Detector.Surprise], end: Int64) {
        var surprises: [Detector.Surprise] = []
        var second = start
        var ids = Array(sessions)
        while !ids.isEmpty {
            let pair = ids.prefix(2)
            ids.removeFirst(pair.count)
            for event in workflow {
                for session in pair {
                    let time = Timestamp(nanoseconds: second * 1_000_000_000)
                    if let surprise = detector.observe(event: event, session: session, kind: .bounded, time: time) {
                        surprises.append(surprise)
                    }
                    second += 1
                }
            }
            surprises += detector.expire(now: Timestamp(nanoseconds: second * 1_000_000_000))
        }
        return (surprises, second)
    }

    /// A detector whose sessions end after 30 s idle, with room for `maximumSteps` distinct steps.
    private func detector(maximumSteps: Int = Detector.Configuration().maximumSteps) -> Detector {
        var configuration = Detector.Configuration()
        configuration.sessionIdleSeconds = 30
        configuration.maximumSteps = maximumSteps
        return Detector(configuration: configuration)
    }

    @Test func aStepOutOfTheWorkflowSurprisesOnce() throws {
        var detector = self.detector()
        let learnt = self.run(&detector, workflow: [1, 2, 3], sessions: 0..<200)
        #expect(learnt.surprises.isEmpty)
        // Event 2 skipped: 1 was always followed by 2.
        let skipped = self.run(&detector, workflow: [1, 3], sessions: 1000..<1001, start: learnt.end)
        let surprise = try #require(skipped.surprises.first)
        #expect(skipped.surprises.count == 1)
        #expect(surprise.previous == .event(1) && surprise.next == .event(3) && surprise.session == 1000)
        #expect(surprise.followers == 200)
        #expect(surprise.usual == [Detector.Follower(step: .event(2), count: 200)])
        #expect(surprise.noveltyChance < 0.01)
        // The step is learnt: the same order again is no news.
        let again = self.run(&detector, workflow: [1, 3], sessions: 1001..<1002, start: skipped.end)
        #expect(again.surprises.isEmpty)
    }

    @Test func aSessionThatStopsHalfwayEndsWhereNoneEnded() throws {
        var detector = self.detector()
        let learnt = self.run(&detector, workflow: [1, 2, 3], sessions: 0..<150)
        #expect(learnt.surprises.isEmpty)
        let cut = self.run(&detector, workflow: [1, 2], sessions: 500..<501, start: learnt.end)
        #expect(cut.surprises.isEmpty, "nothing ends until the session is idle")
        let surprises = detector.expire(now: Timestamp(nanoseconds: (cut.end + 60) * 1_000_000_000))
        let surprise = try #require(surprises.first)
        #expect(surprise.previous == .event(2) && surprise.next == .end)
        #expect(surprise.usual.map(\.step) == [.event(3)])
        #expect(surprise.time == Timestamp(nanoseconds: (cut.end - 1 + 30) * 1_000_000_000))
        #expect(detector.openSessions == 0)
    }

    @Test func anUnsettledWorkflowNeverAlerts() {
        // Twenty events in random order on one continuous stream: new steps keep coming, so none is news.
        var detector = Detector()
        var random = SplitMix64(seed: 7)
        var surprises = 0
        for second in 0..<20_000 {
            let event = UInt32(random.next() % 20)
            let time = Timestamp(nanoseconds: Int64(second) * 1_000_000_000)
            if detector.observe(event: event, session: 1, kind: .continuous, time: time) != nil { surprises += 1 }
        }
        #expect(surprises == 0)
        #expect(detector.stepCount == 400)
    }

    @Test func theNextEventMustBeKnownAndThePreviousOftenFollowed() {
        var detector = self.detector()
        // Too few sessions to know what follows 1.
        let few = self.run(&detector, workflow: [1, 2, 3], sessions: 0..<50)
        let early = self.run(&detector, workflow: [1, 3], sessions: 100..<101, start: few.end)
        #expect(early.surprises.isEmpty)
        // A never-seen event is a new template, not a new order.
        let more = self.run(&detector, workflow: [1, 2, 3], sessions: 200..<400, start: early.end)
        let fresh = self.run(&detector, workflow: [1, 9, 3], sessions: 500..<501, start: more.end)
        #expect(fresh.surprises.isEmpty)
    }

    @Test func aStreamWithTooManyStepsIsNotJudged() {
        var detector = self.detector(maximumSteps: 3)
        // start→1, 1→2, 2→3 fill the table; 3→end finds it full and is neither learnt nor judged.
        let learnt = self.run(&detector, workflow: [1, 2, 3], sessions: 0..<200)
        let skipped = self.run(&detector, workflow: [1, 3], sessions: 1000..<1001, start: learnt.end)
        #expect(skipped.surprises.isEmpty)
        #expect(detector.stepCount == 3)
    }

    @Test func openSessionsStayBounded() {
        var configuration = Detector.Configuration()
        configuration.maximumSessions = 100
        var detector = Detector(configuration: configuration)
        for session in 0..<UInt64(1000) {
            let time = Timestamp(nanoseconds: Int64(session) * 1_000_000)
            _ = detector.observe(event: 1, session: session, kind: .bounded, time: time)
            #expect(detector.openSessions <= 100)
        }
        #expect(detector.openSessions > 0)
    }
    @Test func aForgottenSessionGoesOnWithoutAFalseStart() throws {
        var detector = self.detector()
        let learnt = self.run(&detector, workflow: [1, 2, 3], sessions: 0..<200)
        // A session half way through when its events were lost: after the gap it goes on at 2, which never
        // starts a session, and that is no news.
        var time = Timestamp(nanoseconds: learnt.end * 1_000_000_000)
        #expect(detector.observe(event: 1, session: 900, kind: .bounded, time: time) == nil)
        detector.forgetSessions(now: time)
        #expect(detector.openSessions == 0)
        time = Timestamp(nanoseconds: (learnt.end + 1) * 1_000_000_000)
        #expect(detector.observe(event: 2, session: 900, kind: .bounded, time: time) == nil)
        #expect(detector.observe(event: 3, session: 900, kind: .bounded, time: time) == nil)
        // Once the idle time has passed, a session starting at 2 is out of line again.
        time = Timestamp(nanoseconds: (learnt.end + 40) * 1_000_000_000)
        let surprise = detector.observe(event: 2, session: 901, kind: .bounded, time: time)
        let late = try #require(surprise)
        #expect(late.previous == .start && late.next == .event(2))
    }
    @Test func theSessionFieldIsChosenTheSameWayEveryTime() {
        // Dictionary order differs between processes; the choice must not.
        let both = Detector.session(of: ["thread": "main", "request_id": "r-1", "trace_id": "t-1", "pid": "42"])
        #expect(both.field == "trace_id" && both.kind == .bounded && both.hash == SignatureHash.of("t-1"))
        let process = Detector.session(of: ["thread": "main", "pid": "42", "level": "info"])
        #expect(process.field == "pid" && process.kind == .continuous)
        let none = Detector.session(of: ["request_id": "", "host": "web-1"])
        #expect(none.field == nil && none.hash == 0 && none.kind == .continuous)
    }
}
