// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// An append-only log of accepted input: a batch is appended (and, by default, fsynced) before its request is
/// acknowledged, and replayed after a crash past the last checkpoint.
///
/// Records live in segment files `wal-<first sequence>.log`; each record is `length (u32) | crc32 (u32) |
/// sequence (u64) | payload`, little-endian, the checksum covering sequence and payload. A torn record at the
/// end of the last segment (a crash mid-write) is cut off when the log is opened. Appends from many requests
/// are written and synced together by one writer thread (group commit), so an fsync is shared by every request
/// that arrived while the previous one ran.
public final class WriteAheadLog: @unchecked Sendable {
    /// When appended records reach the disk.
    public enum SyncPolicy: String, Sendable, CaseIterable {
        /// fsync before acknowledging (group commit): survives a power loss.
        case always
        /// write(2) before acknowledging, fsync in the background every 100 ms: survives a crash of Vigil,
        /// may lose the last 100 ms of acknowledged input if the machine itself fails.
        case interval
    }

    /// One record read back.
    public struct Record: Sendable {
        /// Its sequence number (1, 2, 3, … for the life of the data directory).
        public let sequence: UInt64
        /// The bytes appended.
        public let payload: [UInt8]
    }

    public let directory: String
    public let syncPolicy: SyncPolicy
    /// Segments roll over past this size.
    public let segmentBytes: Int

    private let condition = NSCondition()
    private var pending:
        [(payload: [UInt8], durable: @Sendable (UInt64) -> Void, done: CheckedContinuation<UInt64, any Error>)] = []
    private var stopping = false
    private var descriptor: Int32 = -1
    private var segmentSize = 0
    private var segments: [(first: UInt64, path: String)] = []
    private var nextSequence: UInt64 = 1
    private var writer: Thread?
    private var failure: String?
    /// Bytes held by all segments.
    public private(set) var totalBytes = 0

    /// Opens (or creates) the log in `directory`, cutting off a torn tail.
    public init(directory path: String, syncPolicy: SyncPolicy = .always, segmentBytes: Int = 64 << 20) throws {
        self.directory = path
        let directory = URL(fileURLWithPath: path)
        self.syncPolicy = syncPolicy
        self.segmentBytes = segmentBytes
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasPrefix("wal-") && $0.hasSuffix(".log") }
        self.segments = names.compactMap { name in
            UInt64(name.dropFirst(4).dropLast(4)).map { ($0, directory.appendingPathComponent(name).path) }
        }
        .sorted { $0.first < $1.first }
        // Find the last good record; cut a torn tail.
        if let last = self.segments.last {
            let (records, validBytes) = Self.scan(path: last.path)
            self.nextSequence = (records.last?.sequence ?? (last.first - 1)) + 1
            if let handle = FileHandle(forWritingAtPath: last.path) {
                try handle.truncate(atOffset: UInt64(validBytes))
                try handle.close()
            }
        }
        for segment in self.segments {
            self.totalBytes += (try? FileManager.default.attributesOfItem(atPath: segment.path)[.size] as? Int) ?? 0
        }
        // Weak: a log dropped before its thread first runs (a server that fails to start right after opening
        // it) must not be read after it is gone; once running, the writer holds the log until `close()`.
        let thread = Thread { [weak self] in self?.runWriter() }
        thread.name = "vigil-wal"
        self.writer = thread
        thread.start()
    }

    /// The sequence number the next record will get.
    public var upcomingSequence: UInt64 {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.nextSequence
    }

    /// Appends one record and returns its sequence number once it is durable under the sync policy.
    ///
    /// `durable` runs on the writer thread, in sequence order, as soon as the record is durable and before
    /// `append` returns: the pipeline uses it to receive records in exactly the order they were logged.
    public func append(
        _ payload: [UInt8],
        durable: @escaping @Sendable (UInt64) -> Void = { _ in }
    ) async throws
        -> UInt64
    {
        try await withCheckedThrowingContinuation { continuation in
            self.condition.lock()
            if self.stopping || self.failure != nil {
                self.condition.unlock()
                continuation.resume(throwing: WALError(self.failure ?? "the write-ahead log is closed"))
                return
            }
            self.pending.append((payload, durable, continuation))
            self.condition.signal()
            self.condition.unlock()
        }
    }

    /// Every record with a sequence number above `sequence`, in order.
    public func records(after sequence: UInt64) -> [Record] {
        var result: [Record] = []
        for (index, segment) in self.segments.enumerated() {
            if index + 1 < self.segments.count && self.segments[index + 1].first <= sequence + 1 { continue }
            result += Self.scan(path: segment.path).records.filter { $0.sequence > sequence }
        }
        return result
    }

    /// Deletes segments whose records are all at or below `sequence` (they are covered by a checkpoint).
    public func truncate(through sequence: UInt64) {
        self.condition.lock()
        defer { self.condition.unlock() }
        while self.segments.count > 1, self.segments[1].first <= sequence + 1 {
            let removed = self.segments.removeFirst()
            let size = (try? FileManager.default.attributesOfItem(atPath: removed.path)[.size] as? Int) ?? 0
            self.totalBytes -= size
            try? FileManager.default.removeItem(atPath: removed.path)
        }
    }

    /// Writes what is pending, then stops the writer.
    public func close() {
        self.condition.lock()
        self.stopping = true
        self.condition.signal()
        while self.writer != nil { self.condition.wait() }
        self.condition.unlock()
    }

    // MARK: - Writer thread

    private func runWriter() {
        var lastSync = DispatchTime.now()
        var unsynced = false
        while true {
            self.condition.lock()
            while self.pending.isEmpty && !self.stopping {
                if unsynced {
                    _ = self.condition.wait(until: Date().addingTimeInterval(0.1))
                    break
                }
                self.condition.wait()
            }
            let batch = self.pending
            self.pending.removeAll(keepingCapacity: true)
            let stop = self.stopping && batch.isEmpty
            self.condition.unlock()
            if stop { break }
            var sequences: [UInt64] = []
            var error: String?
            if !batch.isEmpty {
                do {
                    sequences = try self.write(batch.map(\.payload))
                    unsynced = true
                } catch let failure {
                    error = "\(failure)"
                }
            }
            let syncNow =
                self.syncPolicy == .always || batch.isEmpty
                || DispatchTime.now().uptimeNanoseconds - lastSync.uptimeNanoseconds > 100_000_000
            if unsynced && syncNow && self.descriptor >= 0 {
                if fsync(self.descriptor) != 0 && error == nil { error = "fsync failed: errno \(errno)" }
                lastSync = DispatchTime.now()
                unsynced = false
            }
            if let error {
                self.condition.lock()
                self.failure = error
                self.condition.unlock()
                for item in batch { item.done.resume(throwing: WALError(error)) }
            } else {
                for (item, sequence) in zip(batch, sequences) { item.durable(sequence) }
                for (item, sequence) in zip(batch, sequences) { item.done.resume(returning: sequence) }
            }
        }
        if self.descriptor >= 0 {
            fsync(self.descriptor)
            Glibc.close(self.descriptor)
            self.descriptor = -1
        }
        self.condition.lock()
        self.writer = nil
        self.condition.broadcast()
        self.condition.unlock()
    }

    private func write(_ payloads: [[UInt8]]) throws -> [UInt64] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(payloads.reduce(0) { $0 + $1.count + 16 })
        var sequences: [UInt64] = []
        self.condition.lock()
        var sequence = self.nextSequence
        self.condition.unlock()
        if self.descriptor < 0 || self.segmentSize >= self.segmentBytes { try self.openSegment(first: sequence) }
        for payload in payloads {
            var header = [UInt8](repeating: 0, count: 16)
            Self.put32(UInt32(payload.count), into: &header, at: 0)
            Self.put64(sequence, into: &header, at: 8)
            var crc = CRC32()
            crc.update(header[8..<16])
            crc.update(payload[...])
            Self.put32(crc.value, into: &header, at: 4)
            buffer += header
            buffer += payload
            sequences.append(sequence)
            sequence += 1
        }
        var offset = 0
        while offset < buffer.count {
            let written = buffer[offset...].withUnsafeBytes { Glibc.write(self.descriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw WALError("write to the write-ahead log failed: errno \(errno)")
            }
            offset += written
        }
        self.segmentSize += buffer.count
        self.condition.lock()
        self.nextSequence = sequence
        self.totalBytes += buffer.count
        self.condition.unlock()
        return sequences
    }

    private func openSegment(first: UInt64) throws {
        if self.descriptor >= 0 {
            fsync(self.descriptor)
            Glibc.close(self.descriptor)
        }
        // Append to the last segment if it is small; otherwise start a new one named by its first record.
        if let last = self.segments.last,
            let size = try? FileManager.default.attributesOfItem(atPath: last.path)[.size] as? Int,
            size < self.segmentBytes
        {
            self.descriptor = open(last.path, O_WRONLY | O_APPEND | O_CLOEXEC)
            self.segmentSize = size
        } else {
            let name = "wal-" + String(format: "%020llu", first) + ".log"
            let path = URL(fileURLWithPath: self.directory).appendingPathComponent(name).path
            self.descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            self.segmentSize = 0
            self.condition.lock()
            self.segments.append((first, path))
            self.condition.unlock()
            // Make the new file's name durable too.
            let directory = open(self.directory, O_RDONLY | O_DIRECTORY)
            if directory >= 0 {
                fsync(directory)
                Glibc.close(directory)
            }
        }
        guard self.descriptor >= 0 else { throw WALError("cannot open a write-ahead log segment: errno \(errno)") }
    }

    /// Reads a segment's valid records and the length of its valid prefix.
    static func scan(path: String) -> (records: [Record], validBytes: Int) {
        guard let data = FileManager.default.contents(atPath: path) else { return ([], 0) }
        let bytes = [UInt8](data)
        var records: [Record] = []
        var offset = 0
        while offset + 16 <= bytes.count {
            let length = Int(get32(bytes, offset))
            guard length <= bytes.count - offset - 16 else { break }
            var crc = CRC32()
            crc.update(bytes[(offset + 8)..<(offset + 16 + length)])
            guard crc.value == get32(bytes, offset + 4) else { break }
            records.append(
                Record(
                    sequence: get64(bytes, offset + 8),
                    payload: Array(bytes[(offset + 16)..<(offset + 16 + length)])
                )
            )
            offset += 16 + length
        }
        return (records, offset)
    }

    static func put32(_ value: UInt32, into bytes: inout [UInt8], at offset: Int) {
        for shift in 0..<4 { bytes[offset + shift] = UInt8(truncatingIfNeeded: value >> (8 * shift)) }
    }

    static func put64(_ value: UInt64, into bytes: inout [UInt8], at offset: Int) {
        for shift in 0..<8 { bytes[offset + shift] = UInt8(truncatingIfNeeded: value >> (8 * shift)) }
    }

    static func get32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        var value: UInt32 = 0
        for shift in 0..<4 { value |= UInt32(bytes[offset + shift]) << (8 * shift) }
        return value
    }

    static func get64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for shift in 0..<8 { value |= UInt64(bytes[offset + shift]) << (8 * shift) }
        return value
    }
}

/// The write-ahead log could not take a record.
public struct WALError: Error, CustomStringConvertible {
    /// What went wrong.
    public let message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    public var description: String { self.message }
}

/// CRC-32 (IEEE 802.3, reflected), slicing by eight bytes at a time.
struct CRC32 {
    static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for index in 0..<256 {
            var value = UInt32(index)
            for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
            tables[index] = value
        }
        for index in 0..<256 {
            for slice in 1..<8 {
                let previous = tables[(slice - 1) * 256 + index]
                tables[slice * 256 + index] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    private(set) var state: UInt32 = 0xFFFF_FFFF

    var value: UInt32 { self.state ^ 0xFFFF_FFFF }

    mutating func update(_ bytes: ArraySlice<UInt8>) {
        var crc = self.state
        Self.tables.withUnsafeBufferPointer { t in
            bytes.withUnsafeBytes { raw in
                var index = 0
                let count = raw.count
                while index + 8 <= count {
                    let low = raw.loadUnaligned(fromByteOffset: index, as: UInt32.self).littleEndian ^ crc
                    let high = raw.loadUnaligned(fromByteOffset: index + 4, as: UInt32.self).littleEndian
                    crc =
                        t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)]
                        ^ t[5 * 256 + Int((low >> 16) & 0xFF)] ^ t[4 * 256 + Int(low >> 24)]
                        ^ t[3 * 256 + Int(high & 0xFF)] ^ t[2 * 256 + Int((high >> 8) & 0xFF)]
                        ^ t[1 * 256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
                    index += 8
                }
                while index < count {
                    crc = t[Int((crc ^ UInt32(raw[index])) & 0xFF)] ^ (crc >> 8)
                    index += 1
                }
            }
        }
        self.state = crc
    }
}
