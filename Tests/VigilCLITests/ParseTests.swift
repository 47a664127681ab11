// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

/// Runs the built `vigil` binary the way the evaluators and users do.
@Suite struct ParseTests {
    @Test func csvContractHasOneRowPerLineInOrder() throws {
        let input = """
            Invalid user alice from 10.0.0.1
            Invalid user bob from 10.0.0.2
            session opened for user root, "quoted"
            Invalid user carol from 10.0.0.3

            Invalid user dave from 10.0.0.4
            """
        let result = try Vigil.run(["parse", "--content", "--output", "csv"], input: input)
        #expect(result.status == 0)
        let rows = try CSVRows.parse(result.stdout)
        #expect(rows.first == ["LineId", "EventId", "EventTemplate"])
        #expect(rows.count == 7)
        #expect(rows.dropFirst().map { $0[0] } == ["1", "2", "3", "4", "5", "6"])
        #expect(rows[1][2] == "Invalid user <*> from <*>")
        #expect(rows[1][1] == rows[4][1] && rows[1][1] == rows[6][1])
        #expect(rows[3][2] == #"session opened for user root, "quoted""#)
        #expect(rows[5][2] == "")
    }

    @Test func jsonOutputCarriesParametersAndHeaderFields() throws {
        let input = (0..<5).map {
            "Dec 10 06:55:4\($0) LabSZ sshd[2420\($0)]: Failed password for user\($0) from 10.0.0.\($0) port 22 ssh2"
        }
        .joined(separator: "\n")
        let result = try Vigil.run(["parse", "--output", "json"], input: input)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 5)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["template"] as? String == "Failed password for <*> from <*> port <*> ssh2")
        #expect(first["parameters"] as? [String] == ["user0", "10.0.0.0", "22"])
        #expect(first["component"] as? String == "sshd")
        #expect(first["pid"] as? String == "24200")
        #expect(first["host"] as? String == "LabSZ")
    }

    @Test func garbageInputNeverCrashes() throws {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes += Array(repeating: UInt8(ascii: "x"), count: 10 << 20)  // one 10 MiB line
        bytes += Array("\nlast line 42\n".utf8)
        let result = try Vigil.run(["parse", "--output", "csv", "-"], input: Data(bytes))
        #expect(result.status == 0)
        let rows = result.stdout.split(separator: "\n")
        #expect(rows.last?.hasSuffix("last line <*>") == true)
        #expect(result.stderr.contains("longer than 1 MiB"))
    }

    @Test func missingFileIsAClearError() throws {
        let result = try Vigil.run(["parse", "/nonexistent/vigil.log"], input: "")
        #expect(result.status != 0)
        #expect(result.stderr.contains("cannot open /nonexistent/vigil.log"))
    }

    @Test func helpTeachesTheCommands() throws {
        let result = try Vigil.run(["parse", "--help"], input: "")
        #expect(result.stdout.contains("LineId,EventId,EventTemplate"))
        #expect(result.stdout.contains("Examples:"))
    }
}
