// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

/// Templates a person wrote (Loki users ask for their own patterns, grafana/loki#20493): lines they match count
/// under them, whatever the mining would have made of them, and the mining of every other line is unchanged.
@Suite struct TemplateMinerPinnedTests {
    private func miner(_ pinned: [String]) -> TemplateMiner {
        var configuration = TemplateMiner.Configuration()
        configuration.pinnedTemplates = pinned
        return TemplateMiner(configuration: configuration)
    }

    private let lines = [
        "card declined for order 1235 (code=51)",
        "user alice logged in from web",
        "card declined for order 99 (code=05)",
        "user bob logged in from web",
        "user admin logged in from console",
        "user carol logged in from web",
        "user dave logged in from web",
        "card declined for order 7 (code=51) retry 2",
    ]

    @Test func linesAPinnedTemplateMatchesCountUnderIt() throws {
        var miner = self.miner(["card   declined <*>", "user admin logged in <*>", "user <*> logged in"])
        let groups = self.lines.map { miner.add($0, severity: .error) }
        miner.consolidate()
        let texts = groups.map { miner.templateText(of: $0) ?? "?" }
        #expect([texts[0], texts[2], texts[7]] == Array(repeating: "card declined <*>", count: 3), "single spaces")
        #expect(texts[4] == "user admin logged in <*>", "the first pin that matches decides")
        #expect(texts[1] == "user <*> logged in from web", "a pin matches the whole line: add <*> for the rest")
        let card = try #require(miner.templates().first { $0.text == "card declined <*>" })
        #expect(card.count == 3 && card.errorCount == 3)
        #expect(card.id == Template.id(for: "card declined <*>"), "the ID is the text's hash")
    }

    @Test func theMiningOfOtherLinesIsUnchanged() {
        var plain = self.miner([])
        var pinned = self.miner(["user admin logged in <*>"])
        let plainGroups = self.lines.map { plain.add($0) }
        let pinnedGroups = self.lines.map { pinned.add($0) }
        plain.consolidate()
        pinned.consolidate()
        for index in self.lines.indices where index != 4 {
            #expect(plain.templateText(of: plainGroups[index]) == pinned.templateText(of: pinnedGroups[index]))
        }
        #expect(plain.templateText(of: plainGroups[4]) != "user admin logged in <*>")
    }

    /// Checkpoints keep shapes, not decisions: a restored miner follows the pins it is given now.
    @Test func aRestoredMinerFollowsTheCurrentPins() {
        var original = self.miner(["user admin logged in <*>"])
        for line in self.lines { original.add(line) }
        original.consolidate()
        let snapshot = original.snapshot()
        var same = TemplateMiner.Configuration()
        same.pinnedTemplates = ["user admin logged in <*>"]
        #expect(TemplateMiner(restoring: snapshot, configuration: same).templates() == original.templates())
        var changed = TemplateMiner.Configuration()
        changed.pinnedTemplates = ["user <*> logged in from <*>"]
        let restored = TemplateMiner(restoring: snapshot, configuration: changed)
        let texts = Set(restored.templates().map(\.text))
        #expect(!texts.contains("user admin logged in <*>"))
        #expect(restored.templates().first { $0.text == "user <*> logged in from <*>" }?.count == 5, "web and console")
    }

    @Test func emptyAndRepeatedPinsAreDropped() {
        var miner = self.miner(["  ", "a <*>", "a   <*>"])
        miner.add("a b")
        #expect(miner.pins.count == 1)
        #expect(miner.templates().map(\.text) == ["a <*>"])
    }
}
