// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import VigilCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads a file or standard input line by line in large chunks, handing each line over as bytes.
///
/// Lines end at `\n` (a trailing `\r` is dropped). A line longer than ``maximumLineLength`` is cut there and the
/// rest of it skipped, so one hostile line cannot exhaust memory; the count of cut lines is kept.
struct LineReader {
    /// The longest line kept whole (bytes).
    static let maximumLineLength = 1 << 20

    let path: String
    private let descriptor: Int32
    /// Bytes read so far.
    private(set) var bytesRead = 0
    /// The file's size if known (regular files), for progress.
    let totalBytes: Int?
    /// Lines that were longer than the limit and cut.
    private(set) var truncatedLines = 0

    /// When the input was last written: a regular file's modification time, else now (dates in a log that carry
    /// no year are placed by it).
    let lastWritten: Timestamp

    /// Opens `path`, or standard input when `path` is `-`.
    init(path: String) throws {
        self.path = path
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let current = Timestamp(nanoseconds: Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec))
        if path == "-" {
            self.descriptor = 0
            self.totalBytes = nil
            self.lastWritten = current
        } else {
            let fd = open(path, O_RDONLY)
            guard fd >= 0 else {
                throw CLIError("cannot open \(path): \(String(cString: strerror(errno)))")
            }
            var info = stat()
            if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
                close(fd)
                throw CLIError("\(path) is a directory; give a log file or - for standard input")
            }
            self.descriptor = fd
            let regular = (info.st_mode & S_IFMT) == S_IFREG
            self.totalBytes = regular ? Int(info.st_size) : nil
            self.lastWritten =
                regular
                ? Timestamp(nanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
                : current
        }
    }

    /// Bytes read ahead by ``firstVisibleByte()``, handed out first.
    private var readAhead: [UInt8] = []

    /// The input's first byte that is not a space, tab or line end (nil for an input of none), read ahead so that
    /// ``forEachLine(_:)`` and ``readAll(limit:)`` still see everything; it waits for a pipe's first such byte only.
    mutating func firstVisibleByte() throws -> UInt8? {
        var byte: [UInt8] = [0]
        while try self.readChunk(into: &byte) == 1 {
            self.readAhead.append(byte[0])
            if byte[0] != 0x20 && byte[0] != 0x09 && byte[0] != 0x0A && byte[0] != 0x0D { return byte[0] }
        }
        return nil
    }

    /// Reads the next bytes into `chunk` (retrying when a signal interrupts) and counts them: how many, 0 at the end.
    private mutating func readChunk(into chunk: inout [UInt8]) throws -> Int {
        while true {
            let count = chunk.withUnsafeMutableBytes { read(self.descriptor, $0.baseAddress, $0.count) }
            if count >= 0 {
                self.bytesRead += count
                return count
            }
            if errno != EINTR { throw CLIError("cannot read \(self.path): \(String(cString: strerror(errno)))") }
        }
    }

    /// Everything (left) to read, up to `limit` bytes; more is an error.
    mutating func readAll(limit: Int) throws -> [UInt8] {
        var bytes = self.readAhead
        self.readAhead = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = try self.readChunk(into: &chunk)
            if count == 0 { break }
            bytes.append(contentsOf: chunk[..<count])
            guard bytes.count <= limit else { throw CLIError("\(self.path) is larger than \(limit >> 20) MiB") }
        }
        if self.descriptor != 0 { close(self.descriptor) }
        return bytes
    }

    /// Calls `body` with every line (without its newline), in order, with its 1-based number and the bytes read
    /// so far (for progress).
    mutating func forEachLine(_ body: (Span<UInt8>, Int, Int) throws -> Void) throws {
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        // What was read ahead comes first: blank lines, then the start of the first line that is not.
        var pending: [UInt8] = []
        var lineNumber = 0
        for byte in self.readAhead {
            if byte == 0x0A {
                lineNumber += 1
                try Self.deliver(pending, 0, pending.count, lineNumber, self.bytesRead, body)
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
            }
        }
        self.readAhead = []
        var skippingRest = false
        while true {
            let count = try self.readChunk(into: &chunk)
            if count == 0 { break }
            var start = 0
            var index = 0
            while index < count {
                if chunk[index] == 0x0A {
                    if skippingRest {
                        skippingRest = false
                    } else if pending.isEmpty {
                        lineNumber += 1
                        try Self.deliver(chunk, start, index, lineNumber, self.bytesRead, body)
                    } else {
                        pending.append(contentsOf: chunk[start..<index])
                        lineNumber += 1
                        try Self.deliver(pending, 0, pending.count, lineNumber, self.bytesRead, body)
                        pending.removeAll(keepingCapacity: true)
                    }
                    start = index + 1
                }
                index += 1
            }
            if start < count && !skippingRest {
                pending.append(contentsOf: chunk[start..<count])
                if pending.count > Self.maximumLineLength {
                    lineNumber += 1
                    self.truncatedLines += 1
                    try Self.deliver(pending, 0, Self.maximumLineLength, lineNumber, self.bytesRead, body)
                    pending.removeAll(keepingCapacity: true)
                    skippingRest = true
                }
            }
        }
        if !pending.isEmpty {
            lineNumber += 1
            try Self.deliver(pending, 0, pending.count, lineNumber, self.bytesRead, body)
        }
        if self.descriptor != 0 { close(self.descriptor) }
    }

    private static func deliver(
        _ bytes: [UInt8],
        _ start: Int,
        _ end: Int,
        _ lineNumber: Int,
        _ bytesRead: Int,
        _ body: (Span<UInt8>, Int, Int) throws -> Void
    ) throws {
        var stop = end
        if stop > start && bytes[stop - 1] == 0x0D { stop -= 1 }
        try body(bytes.span.extracting(start..<stop), lineNumber, bytesRead)
    }
}
