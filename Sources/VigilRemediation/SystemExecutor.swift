// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Dispatch
import Foundation
import Synchronization
public import VigilCore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Runs commands as child processes (the program and its arguments directly, no shell) and sends HTTP requests
/// (http and https), each bounded in time; keeps the start of what they print or answer for the audit log. A command
/// that times out is killed with everything it started.
public struct SystemExecutor: ActionExecutor {
    /// Longest a command or request may take before it is killed or abandoned and counted as failed.
    public var timeoutSeconds: Double
    /// Bytes of output or answer kept for the audit log.
    public var keptOutputBytes: Int

    /// Creates an executor.
    public init(timeoutSeconds: Double = 120, keptOutputBytes: Int = 2_048) {
        self.timeoutSeconds = timeoutSeconds
        self.keptOutputBytes = keptOutputBytes
    }

    public func perform(_ action: Runbook.Action) async -> ActionResult {
        switch action {
        case .command(let arguments): await self.run(arguments)
        case .http(let method, let url, let body): await self.send(method: method, url: url, body: body)
        }
    }

    // MARK: - Commands

    /// Runs `arguments[0]` (found on `PATH` when it has no slash) with the rest as its arguments. Its output goes
    /// to a temporary file, so a chatty command never blocks on a full pipe.
    func run(_ arguments: [String]) async -> ActionResult {
        guard let program = arguments.first, !program.isEmpty else {
            return ActionResult(succeeded: false, detail: "empty command")
        }
        guard let executable = Self.locate(program) else {
            return ActionResult(succeeded: false, detail: "\(program): not found on PATH")
        }
        let outputURL = FileManager.default.temporaryDirectory.appendingPathComponent(
            "vigil-action-\(UUID().uuidString)"
        )
        guard FileManager.default.createFile(atPath: outputURL.path, contents: nil),
            let output = try? FileHandle(forWritingTo: outputURL)
        else {
            return ActionResult(succeeded: false, detail: "cannot create a temporary file for the output")
        }
        defer {
            try? output.close()
            try? FileManager.default.removeItem(at: outputURL)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(arguments.dropFirst())
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        // Who came first, the exit or the deadline: decided on Foundation's and Dispatch's own threads, so a busy
        // task pool can neither make the deadline late nor turn a finished command into a killed one.
        let outcome = Atomic<Int>(Self.running)
        let exited = AsyncStream<ContinuousClock.Instant>.makeStream()
        let started = ContinuousClock.now
        process.terminationHandler = { _ in
            _ = outcome.compareExchange(expected: Self.running, desired: Self.exited, ordering: .relaxed)
            exited.continuation.yield(ContinuousClock.now)
            exited.continuation.finish()
        }
        do { try process.run() } catch {
            return ActionResult(succeeded: false, detail: "\(program): cannot start: \(error.localizedDescription)")
        }
        let pid = process.processIdentifier
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + self.timeoutSeconds)
        timer.setEventHandler {
            guard outcome.compareExchange(expected: Self.running, desired: Self.killed, ordering: .relaxed).exchanged
            else { return }
            // SIGKILL: a child may have inherited SIGTERM blocked, or ignore it. The whole process group (Foundation
            // starts the command as its leader): what a script started would otherwise outlive it, and the end of
            // the command is only seen when every process holding its end of the status pipe is gone.
            kill(-pid, SIGKILL)
        }
        timer.resume()
        var ended = started
        for await instant in exited.stream {
            ended = instant
            break
        }
        timer.cancel()
        let seconds = Self.seconds(from: started, to: ended)
        let printed = self.kept(try? Data(contentsOf: outputURL))
        if outcome.load(ordering: .relaxed) == Self.killed {
            return ActionResult(
                succeeded: false,
                detail: "killed after \(Self.seconds(self.timeoutSeconds)) s" + (printed.isEmpty ? "" : ": \(printed)"),
                seconds: seconds
            )
        }
        let status = process.terminationStatus
        let how = process.terminationReason == .uncaughtSignal ? "killed by signal \(status)" : "exit \(status)"
        return ActionResult(
            succeeded: process.terminationReason == .exit && status == 0,
            detail: how + (printed.isEmpty ? "" : ": \(printed)"),
            seconds: seconds
        )
    }

    /// A command's outcome, as ``run(_:)`` records it.
    static let running = 0
    static let exited = 1
    static let killed = 2

    /// The path of `program`: itself when it names a path, else the first executable of that name on `PATH`.
    static func locate(_ program: String) -> String? {
        if program.contains("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    // MARK: - HTTP

    /// Sends the request; a 2xx answer is success. A body that looks like JSON is sent as JSON.
    func send(method: String, url text: String, body: String?) async -> ActionResult {
        guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            return ActionResult(succeeded: false, detail: "not an http(s) URL: \(text)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let body {
            request.httpBody = Data(body.utf8)
            let first = body.first { !$0.isWhitespace }
            let type = first == "{" || first == "[" ? "application/json" : "text/plain; charset=utf-8"
            request.setValue(type, forHTTPHeaderField: "Content-Type")
        }
        let configuration = URLSessionConfiguration.ephemeral
        // FoundationNetworking applies the session's limits, not the request's.
        configuration.timeoutIntervalForRequest = self.timeoutSeconds
        configuration.timeoutIntervalForResource = self.timeoutSeconds
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let started = ContinuousClock.now
        do {
            let (data, response) = try await session.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            let answer = self.kept(data)
            return ActionResult(
                succeeded: (200..<300).contains(status),
                detail: "answered \(status)" + (answer.isEmpty ? "" : ": \(answer)"),
                seconds: Self.seconds(from: started, to: .now)
            )
        } catch {
            return ActionResult(succeeded: false, detail: "\(method) \(text): \(error.localizedDescription)")
        }
    }

    // MARK: - Output

    /// The first `keptOutputBytes` of `data` as one line of text.
    func kept(_ data: Data?) -> String {
        guard let data, !data.isEmpty else { return "" }
        let head = data.prefix(self.keptOutputBytes)
        var text = String(decoding: head, as: UTF8.self)
            .split(whereSeparator: \.isNewline).joined(separator: " | ")
        if data.count > self.keptOutputBytes { text += " … (\(data.count) bytes)" }
        return text
    }

    static func seconds(from start: ContinuousClock.Instant, to end: ContinuousClock.Instant) -> Double {
        let elapsed = (end - start).components
        return Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
