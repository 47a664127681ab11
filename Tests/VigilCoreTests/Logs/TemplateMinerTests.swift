// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import PropertyBased
import Testing

@testable import VigilCore

@Suite struct TemplateMinerTests {
    /// Mines `lines` and returns each line's final template text.
    private func mine(_ lines: [String], configuration: TemplateMiner.Configuration = .init()) -> [String] {
        var miner = TemplateMiner(configuration: configuration)
        let groups = lines.map { miner.add($0) }
        miner.consolidate()
        return groups.map { miner.templateText(of: $0) ?? "?" }
    }

    @Test func manyValuesInAColumnBecomeOneVariable() {
        let users = ["alice", "bob", "carol", "dave", "erin"]
        let lines = users.map { "Invalid user \($0) from 10.0.0.1" }
        #expect(Set(self.mine(lines)) == ["Invalid user <*> from <*>"])
    }

    @Test func nearIdenticalConstantsWithDifferentMeaningStaySeparate() {
        let lines = (0..<20).map { "session \($0 % 2 == 0 ? "opened" : "closed") for user root" }
        let templates = Set(self.mine(lines))
        #expect(templates == ["session opened for user root", "session closed for user root"])
    }

    @Test func keyValueValuesMergeEvenWithFewDistinctValues() {
        let lines = ["auth failure; user=root", "auth failure; user=guest"]
        #expect(Set(self.mine(lines)) == ["auth failure; user=<*>"])
    }

    @Test func variablesSpanningSeveralTokensDoNotFragmentAnEvent() {
        let names = ["alpha", "beta", "gamma", "delta", "a b", "c d e", "g h i j", "k l"]
        let lines = names.map { "Warning: we failed to resolve data source name \($0)" }
        #expect(Set(self.mine(lines)) == ["Warning: we failed to resolve data source name <*>"])
    }

    @Test func replayingAStreamAddsNoTemplateOrGroup() {
        let lines = (0..<500).map {
            "worker \($0 % 7) finished job \($0) in \($0 % 13)ms status \($0 % 3 == 0 ? "ok" : "retry")"
        }
        var miner = TemplateMiner()
        for line in lines { miner.add(line) }
        miner.consolidate()
        let before = miner.templates().map(\.text)
        let groupsBefore = miner.groupCount
        for line in lines { miner.add(line) }
        miner.consolidate()
        #expect(miner.templates().map(\.text) == before)
        #expect(miner.groupCount == groupsBefore)
    }

    @Test func templateIDsAreStableHashesOfTheText() {
        #expect(
            Template.id(for: "PacketResponder <*> for block <*> terminating")
                == Template(text: "PacketResponder <*> for block <*> terminating").id
        )
        #expect(Template.id(for: "a") != Template.id(for: "b"))
        #expect(Template.id(for: "a").utf8.count == 16)
    }

    @Test func countsAndFirstLastSeenAreTracked() {
        var miner = TemplateMiner()
        miner.add("disk full on /dev/sda1", severity: .error, time: Timestamp(seconds: 10))
        miner.add("disk full on /dev/sdb1", severity: .error, time: Timestamp(seconds: 30))
        miner.add("all good", severity: .info, time: Timestamp(seconds: 20))
        miner.consolidate()
        let templates = miner.templates()
        let disk = try! #require(templates.first { $0.text.hasPrefix("disk") })
        #expect(disk.count == 2)
        #expect(disk.errorCount == 2)
        #expect(disk.firstSeen == Timestamp(seconds: 10))
        #expect(disk.lastSeen == Timestamp(seconds: 30))
        #expect(disk.firstLine == 1 && disk.lastLine == 2)
    }

    @Test func memoryStaysBoundedByEvictingTheRarest() {
        var miner = TemplateMiner(configuration: .init(maximumGroups: 100))
        for index in 0..<5_000 {
            miner.add("frequent event")
            miner.add("rare-\(String(index, radix: 36))x shape \(index)")
        }
        #expect(miner.groupCount <= 100)
        #expect(miner.templates().contains { $0.text == "frequent event" })
    }

    @Test func parametersOfALineAreRetrievable() throws {
        var miner = TemplateMiner()
        let lines = [
            "Accepted password for alice from 10.0.0.1 port 22 ssh2",
            "Accepted password for bob from 10.0.0.2 port 23 ssh2",
            "Accepted password for carol from 10.0.0.3 port 24 ssh2",
            "Accepted password for dave from 10.0.0.4 port 25 ssh2",
        ]
        let groups = lines.map { miner.add($0) }
        miner.consolidate()
        let template = try #require(miner.template(of: groups[1]))
        #expect(template.pattern.captures(in: lines[1]) == ["bob", "10.0.0.2", "23"])
    }

    @Test func aTemplateMatchesEveryLineItWasMinedFrom() async {
        let word = Gen.letter.string(of: 1...6)
        let line = Gen.oneOf(
            Gen.int(in: 0...9999).map { "request \($0) served in \($0 % 97)ms" },
            word.map { "user \($0) logged in from 10.0.0.1" },
            word.map { "cache \($0) evicted \($0.utf8.count) entries" }
        )
        await propertyCheck(count: 50, input: line.array(of: 1...60)) { lines in
            var miner = TemplateMiner()
            let groups = lines.map { miner.add($0) }
            miner.consolidate()
            for (text, group) in zip(lines, groups) {
                let template = miner.templateText(of: group) ?? ""
                #expect(
                    WildcardPattern(template).captures(in: VariableMasker.normalizedSpacing(text)) != nil,
                    "\(template) vs \(text)"
                )
            }
        }
    }

    @Test func inputOrderDoesNotChangeTheFinalGrouping() {
        let lines = (0..<60).map {
            "job \($0) moved from \(["NEW", "RUNNING", "DONE"][$0 % 3]) to \(["RUNNING", "DONE", "NEW"][$0 % 3])"
        }
        let forward = self.mine(lines)
        let backward = Array(self.mine(lines.reversed()).reversed())
        #expect(forward == backward)
    }
}
