// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Glibc
import Logging
import VigilCore
import VigilIngest
import VigilStorage

/// Watches the machine Vigil runs on with no configuration: `/proc` metrics every few seconds, and the system
/// log from the first source that has one: journald, `/var/log/syslog`, `/var/log/messages`, the kernel's
/// `/dev/kmsg`.
struct HostMonitor {
    let pipeline: Pipeline
    let sampleSeconds: Double
    let logger: Logger

    func runMetrics() async {
        var sampler = HostSampler()
        while !Task.isCancelled {
            let points = sampler.sample(at: Clock.now())
            if !points.isEmpty {
                await self.pipeline.submitWaiting(.samples(points))
            }
            try? await Task.sleep(for: .seconds(self.sampleSeconds))
        }
    }

    /// Which system log this machine has.
    enum SystemLog {
        case journald
        case file(String)
        case kernel
        case none
    }

    static func detectSystemLog() -> SystemLog {
        if Self.journalHasEntries() { return .journald }
        for path: String in ["/var/log/syslog", "/var/log/messages"] where access(path, R_OK) == 0 {
            return .file(path)
        }
        if access("/dev/kmsg", R_OK) == 0 { return .kernel }
        return .none
    }

    static func journalHasEntries() -> Bool {
        guard
            let journalctl = ["/usr/bin/journalctl", "/bin/journalctl"].first(where: { (path: String) in
                access(path, X_OK) == 0
            })
        else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: journalctl)
        process.arguments = ["-n", "1", "-o", "json", "--no-pager", "-q"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 && output.count > 2
    }

    func runSystemLog() async {
        let source = Self.detectSystemLog()
        self.logger.info("system log: \(source)")
        switch source {
        case .journald: await self.followJournal()
        case .file(let path):
            var tailer = FileTailer(patterns: [path], fromStart: false)
            await self.poll { tailer.poll(now: Clock.now()) }
        case .kernel: await self.followKernel()
        case .none: return
        }
    }

    private func poll(_ read: () -> [LogBatch]) async {
        while !Task.isCancelled {
            let batches = read()
            if !batches.isEmpty { await self.pipeline.submitWaiting(.logs(batches)) }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private func followJournal() async {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/journalctl")
        process.arguments = ["-o", "json", "-f", "-n", "2000", "--no-pager", "-q"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            self.logger.error("cannot run journalctl: \(error)")
            return
        }
        var follower = LineFollower(descriptor: pipe.fileHandleForReading.fileDescriptor)
        await self.poll {
            var byStream: [StreamKey: [LogEntry]] = [:]
            for line in follower.readLines().lines {
                if let (key, entry) = SystemLogLine.journal(line) { byStream[key, default: []].append(entry) }
            }
            return byStream.keys.sorted().map { LogBatch(stream: $0, entries: byStream[$0]!) }
        }
        process.terminate()
    }

    private func followKernel() async {
        let descriptor = open("/dev/kmsg", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        let uptime =
            readFile("/proc/uptime").flatMap { Double(String(decoding: $0.prefix { $0 != 0x20 }, as: UTF8.self)) } ?? 0
        let boot = Clock.now().adding(seconds: -uptime)
        var follower = LineFollower(descriptor: descriptor, recordPerRead: true)
        let key = StreamKey(service: "kernel", source: "kmsg")
        await self.poll {
            let entries = follower.readLines().lines.compactMap { SystemLogLine.kernel($0, bootTime: boot)?.entry }
            return entries.isEmpty ? [] : [LogBatch(stream: key, entries: entries)]
        }
    }
}

/// The wall clock, read only at the edges (the core gets time inside the data).
enum Clock {
    static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(nanoseconds: Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec))
    }
}
