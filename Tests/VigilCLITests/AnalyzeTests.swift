// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing

/// Runs `vigil analyze` on the sample log shipped in the repository.
@Suite struct AnalyzeTests {
    @Test func jsonReportFindsTheSampleLogsEvents() throws {
        let sample = Vigil.packageRoot.appendingPathComponent("samples/checkout-service.log").path
        let result = try Vigil.run(["analyze", "--json", sample], input: "")
        #expect(result.status == 0)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(report["records"] as? Int == 900)
        #expect((report["silences"] as? [Any])?.count == 1)
        #expect(
            (report["errorTemplates"] as? [[String: Any]])?.first?["template"] as? String
                == "charge failed for order <*>: upstream payments-api returned <*> after <*>"
        )
        let bursts = try #require(report["bursts"] as? [[String: Any]])
        #expect(bursts.count == 1 && bursts[0]["kind"] as? String == "errors" && bursts[0]["count"] as? Int == 26)
    }

    @Test func textReportShowsTheTimelineAndLists() throws {
        let sample = Vigil.packageRoot.appendingPathComponent("samples/checkout-service.log").path
        let result = try Vigil.run(["analyze", sample], input: "")
        #expect(result.status == 0)
        for heading in [
            "Activity (1 min per bar)", "Top templates", "Error templates", "New error templates", "silence  ",
        ] {
            #expect(result.stdout.contains(heading), "missing \(heading)")
        }
        #expect(result.stderr.isEmpty, "no progress output when stderr is not a terminal")
    }

    /// `--template`: the charge failures count under the template given, whatever their details.
    @Test func templatesOfYourOwnTakeTheLinesTheyMatch() throws {
        let sample = Vigil.packageRoot.appendingPathComponent("samples/checkout-service.log").path
        let result = try Vigil.run(["analyze", "--json", "--template", "charge   failed <*>", sample], input: "")
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let errors = try #require(report["errorTemplates"] as? [[String: Any]])
        #expect(errors.first?["template"] as? String == "charge failed <*>", "\(errors.prefix(2))")
        let refused = try Vigil.run(["analyze", "--template", "<*> <*>", sample], input: "")
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("needs some text besides <*>"), "\(refused.stderr)")
    }

    @Test func rejectsANonPositiveTop() throws {
        let result = try Vigil.run(["analyze", "--top", "0", "/dev/null"], input: "")
        #expect(result.status != 0)
        #expect(result.stderr.contains("--top must be at least 1"))
    }
}
