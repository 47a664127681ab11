// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Glibc
import VigilCore
import VigilIngest

/// Reads lines from a file descriptor without blocking: complete lines are returned, a partial last line is
/// held until its newline arrives. Used for files, pipes and `/dev/kmsg`.
struct LineFollower {
    private(set) var descriptor: Int32
    private var partial: [UInt8] = []
    private var chunk = [UInt8](repeating: 0, count: 256 * 1024)
    /// The longest line kept; longer lines are cut (and the cut counted) so a runaway writer cannot exhaust memory.
    let maximumLine = 1 << 20
    private(set) var cutLines = 0
    /// Whether each read(2) returns one record (as `/dev/kmsg` does) rather than a byte stream.
    let recordPerRead: Bool

    init(descriptor: Int32, recordPerRead: Bool = false) {
        self.descriptor = descriptor
        self.recordPerRead = recordPerRead
        let flags = fcntl(descriptor, F_GETFL)
        _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
    }

    /// Reads what is available now, up to `budget` lines.
    mutating func readLines(budget: Int = 20_000) -> (lines: [[UInt8]], endOfFile: Bool) {
        var lines: [[UInt8]] = []
        while lines.count < budget {
            let count = self.chunk.withUnsafeMutableBytes { read(self.descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE && self.recordPerRead { continue }  // kmsg: the ring overwrote records we had not read
                return (lines, errno != EAGAIN && errno != EWOULDBLOCK)
            }
            if count == 0 { return (lines, true) }
            if self.recordPerRead {
                lines.append(Array(self.chunk[0..<count]))
                continue
            }
            var start = 0
            for index in 0..<count where self.chunk[index] == 0x0A {
                self.partial.append(contentsOf: self.chunk[start..<index])
                lines.append(self.partial)
                self.partial.removeAll(keepingCapacity: true)
                start = index + 1
            }
            self.partial.append(contentsOf: self.chunk[start..<count])
            if self.partial.count > self.maximumLine {
                lines.append(Array(self.partial.prefix(self.maximumLine)))
                self.partial.removeAll(keepingCapacity: true)
                self.cutLines += 1
            }
        }
        return (lines, false)
    }

    /// The held partial line, for a file that was rotated away.
    mutating func takePartial() -> [UInt8]? {
        defer { self.partial.removeAll() }
        return self.partial.isEmpty ? nil : self.partial
    }
}

/// Follows files matching glob patterns the way `tail -F` does: new files are picked up, a file replaced by
/// rotation (new inode) or truncated is read again from its start after the old one is read to its end.
struct FileTailer {
    struct Followed {
        var follower: LineFollower
        var inode: UInt64
        var offset: Int64
    }

    struct FileInfo {
        var inode: UInt64
        var size: Int64
    }

    let patterns: [String]
    /// Whether files present at start are read from their beginning (otherwise from their end).
    let fromStart: Bool
    var files: [String: Followed] = [:]
    var started = false

    init(patterns: [String], fromStart: Bool = false) {
        self.patterns = patterns
        self.fromStart = fromStart
    }

    /// Reads every new complete line of every matching file, by path.
    mutating func poll(now: Timestamp) -> [LogBatch] {
        var batches: [LogBatch] = []
        var paths: [String] = []
        for pattern in self.patterns { paths += Self.glob(pattern) }
        for path in Set(paths).sorted() {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                attributes[.type] as? FileAttributeType == .typeRegular,
                let inode = (attributes[.systemFileNumber] as? NSNumber)?.uint64Value,
                let size = (attributes[.size] as? NSNumber)?.int64Value
            else { continue }
            let info = FileInfo(inode: inode, size: size)
            var lines: [[UInt8]] = []
            if var followed = self.files[path] {
                if info.inode != followed.inode || info.size < followed.offset {
                    // Rotated or truncated: finish the old file, then start the new one from its beginning.
                    lines += followed.follower.readLines(budget: .max).lines
                    if let rest = followed.follower.takePartial() { lines.append(rest) }
                    close(followed.follower.descriptor)
                    self.files[path] = nil
                    if let opened = Self.open(path, atEnd: false, info: info) { self.files[path] = opened }
                } else {
                    let read = followed.follower.readLines()
                    lines += read.lines
                    followed.offset = info.size
                    self.files[path] = followed
                }
            } else if let opened = Self.open(path, atEnd: self.started ? false : !self.fromStart, info: info) {
                self.files[path] = opened
            }
            if var followed = self.files[path], lines.isEmpty {
                lines = followed.follower.readLines().lines
                self.files[path] = followed
            }
            if !lines.isEmpty {
                let service = Self.serviceName(path)
                batches.append(
                    LogBatch(
                        stream: StreamKey(service: service, source: path),
                        entries: lines.map { LogEntry(time: now, line: $0) }
                    )
                )
            }
        }
        self.started = true
        return batches
    }

    static func open(_ path: String, atEnd: Bool, info: FileInfo) -> Followed? {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        if atEnd { lseek(descriptor, 0, SEEK_END) }
        return Followed(
            follower: LineFollower(descriptor: descriptor),
            inode: info.inode,
            offset: atEnd ? info.size : 0
        )
    }

    /// `app` for `/var/log/app/app.log` and `/var/log/app.log`.
    static func serviceName(_ path: String) -> String {
        let file = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return file.isEmpty ? "file" : file
    }

    static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { index in result.gl_pathv[index].map { String(cString: $0) } }
    }
}
