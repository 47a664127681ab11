// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Glibc
import Testing
import VigilServer
import VigilTestSupport

/// A `vigil serve` child process on a free loopback port with its own data directory.
final class ServerProcess {
    let port: Int
    let dataDirectory: URL
    let logFile: URL
    private(set) var process: Process?
    let extraArguments: [String]
    /// What the server reads on standard input (default: nothing).
    var standardInput: Any?

    init(dataDirectory: URL? = nil, arguments: [String] = []) throws {
        self.port = try Self.freePort()
        self.dataDirectory =
            dataDirectory
            ?? Scratch.path("vigil-serve")
        self.logFile = self.dataDirectory.deletingLastPathComponent()
            .appendingPathComponent(self.dataDirectory.lastPathComponent + ".log")
        self.extraArguments = arguments
    }

    deinit {
        if let process = self.process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Starts the server and waits until `/readyz` answers.
    func start() throws {
        let process = Process()
        process.executableURL = Vigil.binary
        process.arguments =
            ["serve", "--port", String(self.port), "--data-dir", self.dataDirectory.path] + self.extraArguments
        if !FileManager.default.fileExists(atPath: self.logFile.path) {
            _ = FileManager.default.createFile(atPath: self.logFile.path, contents: nil)
        }
        let log = try FileHandle(forWritingTo: self.logFile)
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = self.standardInput ?? FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let response = try? self.client().request("GET", "/readyz"), response.status == 200 { return }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw ServerError(description: "vigil serve did not become ready; log:\n\(self.log())")
    }

    /// Kills the server without warning (SIGKILL) and waits for it to be gone.
    func crash() {
        guard let process = self.process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Stops the server with SIGTERM and returns its exit status. A server still running 90 s later (past its own
    /// shutdown limits) is a failure of the test: it is killed, and the status is -1.
    @discardableResult
    func stop() -> Int32 {
        guard let process = self.process else { return -1 }
        process.terminate()
        // Polled: Foundation's waitUntilExit spins a core while it waits.
        let deadline = Date().addingTimeInterval(90)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            Issue.record("vigil serve did not stop within 90 s of SIGTERM; killed. Log:\n\(self.log())")
            return -1
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    func client() -> SimpleHTTPClient { SimpleHTTPClient(port: self.port) }

    /// GET a JSON document.
    func json(_ path: String) throws -> Any {
        let response = try self.client().request("GET", path)
        guard response.status == 200 else {
            throw ServerError(description: "GET \(path): \(response.status) \(response.text)")
        }
        return try JSONSerialization.jsonObject(with: Data(response.body))
    }

    /// `/api/v1/stats` for one signal kind.
    func stats(_ kind: String = "logs") throws -> (accepted: Int, processed: Int, rejected: Int) {
        let object = try self.json("/api/v1/stats") as? [String: Any]
        let counts = object?[kind] as? [String: Int] ?? [:]
        return (counts["accepted"] ?? -1, counts["processed"] ?? -1, counts["rejected"] ?? -1)
    }

    /// Waits until everything accepted has been processed.
    func waitUntilDrained(timeout: TimeInterval = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let stats = try self.stats()
            if stats.processed == stats.accepted { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw ServerError(description: "the pipeline did not drain: \(try self.stats())")
    }

    func log() -> String { (try? String(contentsOf: self.logFile, encoding: .utf8)) ?? "" }

    static func freePort() throws -> Int { try LoopbackPort.free() }
}

struct ServerError: Error, CustomStringConvertible {
    let description: String
}
