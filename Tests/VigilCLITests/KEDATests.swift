// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilServer

private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
private let grpcPython = repositoryRoot.appendingPathComponent(".build/grpc-venv/bin/python")

/// KEDA's external scaler, called as KEDA calls it by the real gRPC library (grpcio, through scripts/keda-check)
/// over plaintext HTTP/2, answered from a series sent over OTLP.
@Suite struct KEDATests {
    /// Runs scripts/keda-check against `port` and returns its answers by method.
    static func call(_ port: Int, _ metadata: [String], methods: [String] = []) throws -> [String: [String: Any]] {
        let process = Process()
        process.executableURL = grpcPython
        process.arguments =
            [repositoryRoot.appendingPathComponent("scripts/keda-check").path, "127.0.0.1:\(port)"]
            + metadata.flatMap { ["--metadata", $0] } + methods.flatMap { ["--call", $0] }
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let complaint = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ServerError(description: "keda-check failed: \(complaint)")
        }
        return try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]] ?? [:]
    }

    static func metric(_ answer: [String: Any]?) -> (name: String, whole: Int, exact: Double)? {
        guard let first = (answer?["metrics"] as? [[String: Any]])?.first, let name = first["name"] as? String,
            let whole = first["int"] as? Int, let exact = first["float"] as? Double
        else { return nil }
        return (name, whole, exact)
    }

    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: grpcPython.path)
                || ProcessInfo.processInfo.environment["CI"] != nil,
            "needs .build/grpc-venv (scripts/test installs grpcio; in CI a missing one fails)"
        )
    )
    func kedaScalesOnTheForecastOfAStoredSeries() throws {
        let grpcPort = try ServerProcess.freePort()
        let vigil = try ServerProcess(arguments: ["--no-host", "--keda-grpc", "127.0.0.1:\(grpcPort)"])
        try vigil.start()
        defer { vigil.stop() }

        // Five hours of requests per second, one point a minute up to a minute ago, rising 2 a minute.
        let end = Int64(Date().timeIntervalSince1970) / 60 * 60 - 60
        var last = 0.0
        let points = (0..<300).map { index in
            last = 100 + 2 * Double(index) + (index % 3 == 0 ? 1 : -1)
            return (end - Int64(299 - index) * 60, last)
        }
        try vigil.send([OTLPGauge(service: "checkout", name: "requests_per_second", points: points)])
        // Samples reach the store with the pipeline's next write.
        var stored: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            stored = try vigil.json("/api/v1/series") as? [[String: Any]] ?? []
            if stored.contains(where: { $0["name"] as? String == "requests_per_second" && $0["samples"] as? Int == 300 }
            ) {
                break
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        let series = try #require(
            stored.first { $0["name"] as? String == "requests_per_second" }?["series"] as? String,
            "\(stored)"
        )

        let answers = try Self.call(grpcPort, ["series=\(series)", "targetValue=50"])
        let spec = try #require(Self.metric(answers["GetMetricSpec"]), "\(answers)")
        #expect(spec.name.hasPrefix("vigil-") && spec.whole == 50 && spec.exact == 50)
        #expect(answers["IsActive"]?["result"] as? Bool == true)
        let value = try #require(Self.metric(answers["GetMetrics"]), "\(answers)")
        #expect(value.name == spec.name)
        // Sized for 15 minutes ahead of a load rising 2 a minute: about 30 above now, never below it.
        #expect(value.exact > last + 15 && value.exact < last + 60, "\(value.exact) against \(last)")
        #expect(value.whole == Int(value.exact.rounded(.up)))

        // Reactive only: the current value; and inactive below a high activation value.
        let current = try Self.call(
            grpcPort,
            ["series=\(series)", "targetValue=50", "mode=current"],
            methods: ["GetMetrics"]
        )
        #expect(Self.metric(current["GetMetrics"])?.exact == last)
        let idle = try Self.call(
            grpcPort,
            ["series=\(series)", "targetValue=50", "activationValue=100000"],
            methods: ["IsActive"]
        )
        #expect(idle["IsActive"]?["result"] as? Bool == false)

        // Mistakes come back as gRPC statuses with a reason.
        let missing = try Self.call(grpcPort, ["series=\(series)"], methods: ["GetMetricSpec"])
        #expect(missing["GetMetricSpec"]?["code"] as? String == "INVALID_ARGUMENT")
        #expect((missing["GetMetricSpec"]?["details"] as? String)?.contains("targetValue") == true)
        let unknown = try Self.call(grpcPort, ["series=nope{a=\"b\"}", "targetValue=5"], methods: ["GetMetrics"])
        #expect(unknown["GetMetrics"]?["code"] as? String == "NOT_FOUND")
        let typo = try Self.call(grpcPort, ["series=\(series)", "targetValue=5", "horizn=5m"], methods: ["IsActive"])
        #expect((typo["IsActive"]?["details"] as? String)?.hasPrefix("unknown metadata key horizn") == true)
        let unimplemented = try Self.call(grpcPort, [], methods: ["StreamMetricSpec"])
        #expect(unimplemented["StreamMetricSpec"]?["code"] as? String == "UNIMPLEMENTED")

        // external-push: the state is pushed at once on a stream that stays open until KEDA cancels it.
        let pushed = try Self.call(
            grpcPort,
            ["series=\(series)", "targetValue=50", "pushInterval=1s"],
            methods: ["StreamIsActive"]
        )
        #expect(pushed["StreamIsActive"]?["first"] as? Bool == true, "\(pushed)")
        let idlePush = try Self.call(
            grpcPort,
            ["series=\(series)", "targetValue=50", "activationValue=100000"],
            methods: ["StreamIsActive"]
        )
        #expect(idlePush["StreamIsActive"]?["first"] as? Bool == false, "\(idlePush)")
        let unknownPush = try Self.call(grpcPort, ["series=nope", "targetValue=5"], methods: ["StreamIsActive"])
        #expect(unknownPush["StreamIsActive"]?["code"] as? String == "NOT_FOUND", "\(unknownPush)")
        // The server is still well after three streams were cancelled.
        #expect(
            try Self.call(grpcPort, ["series=\(series)", "targetValue=50"], methods: ["IsActive"])["IsActive"]?[
                "result"
            ] as? Bool == true
        )
    }
}
