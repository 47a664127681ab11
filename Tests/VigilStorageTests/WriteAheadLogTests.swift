// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation
import Testing
import VigilCore
import VigilTestSupport

@testable import VigilStorage

@Suite struct WriteAheadLogTests {
    func directory() -> String {
        Scratch.path("vigil-wal").path
    }

    @Test func crcMatchesTheStandardCheckValue() {
        var crc = CRC32()
        crc.update(Array("123456789".utf8)[...])
        #expect(crc.value == 0xCBF4_3926)
        var split = CRC32()
        let long = Array((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        split.update(long[0..<333])
        split.update(long[333...])
        var whole = CRC32()
        whole.update(long[...])
        #expect(split.value == whole.value)
    }

    @Test func recordsSurviveAReopenInOrder() async throws {
        let path = self.directory()
        let log = try WriteAheadLog(directory: path, segmentBytes: 200)
        var sequences: [UInt64] = []
        for index in 0..<20 { sequences.append(try await log.append(Array("record \(index)".utf8))) }
        #expect(sequences == Array(1...20))
        log.close()
        let reopened = try WriteAheadLog(directory: path, segmentBytes: 200)
        let records = reopened.records(after: 5)
        #expect(records.map(\.sequence) == Array(6...20))
        #expect(records.first.map { String(decoding: $0.payload, as: UTF8.self) } == "record 5")
        #expect(reopened.upcomingSequence == 21)
        // Segments wholly covered by a checkpoint are deleted; later records stay readable.
        let before = try FileManager.default.contentsOfDirectory(atPath: path).count
        reopened.truncate(through: 15)
        #expect(try FileManager.default.contentsOfDirectory(atPath: path).count < before)
        #expect(reopened.records(after: 15).map(\.sequence) == Array(16...20))
        reopened.close()
    }

    @Test func aTornTailIsCutAndTheLogGoesOn() async throws {
        let path = self.directory()
        let log = try WriteAheadLog(directory: path)
        for index in 0..<3 { _ = try await log.append(Array("record \(index)".utf8)) }
        log.close()
        let segment = try #require(try FileManager.default.contentsOfDirectory(atPath: path).first)
        let file = try #require(FileHandle(forWritingAtPath: path + "/" + segment))
        file.seekToEndOfFile()
        file.write(Data([42, 0, 0, 0, 1, 2, 3]))  // half a record: the crash came mid-write
        try file.close()
        let reopened = try WriteAheadLog(directory: path)
        #expect(reopened.records(after: 0).map(\.sequence) == [1, 2, 3])
        #expect(try await reopened.append(Array("after".utf8)) == 4)
        #expect(reopened.records(after: 3).map { String(decoding: $0.payload, as: UTF8.self) } == ["after"])
        reopened.close()
    }

    @Test func aCorruptedRecordEndsTheReadableLog() async throws {
        let path = self.directory()
        let log = try WriteAheadLog(directory: path)
        for index in 0..<3 { _ = try await log.append(Array("record \(index)".utf8)) }
        log.close()
        let segment = path + "/" + (try FileManager.default.contentsOfDirectory(atPath: path).first ?? "")
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: segment)))
        bytes[bytes.count - 2] ^= 0xFF  // flip a bit in the last record's payload
        try Data(bytes).write(to: URL(fileURLWithPath: segment))
        let reopened = try WriteAheadLog(directory: path)
        #expect(reopened.records(after: 0).map(\.sequence) == [1, 2])
        reopened.close()
    }

    @Test func payloadsRoundTrip() throws {
        let logs = WALPayload.logs([
            LogBatch(
                stream: StreamKey(service: "api", source: "loki"),
                entries: [LogEntry(time: Timestamp(nanoseconds: -5), line: Array("héllo".utf8))]
            )
        ])
        #expect(WALPayload.decode(logs.encoded()) == logs)
        let samples = WALPayload.samples([
            MetricPoint(
                series: SeriesKey(name: "cpu", labels: [.init("host", "a")]),
                time: Timestamp(nanoseconds: 7),
                value: -0.25
            )
        ])
        #expect(WALPayload.decode(samples.encoded()) == samples)
        #expect(WALPayload.decode([1, 200]) == nil)  // a count larger than the bytes left
        #expect(WALPayload.decode([9]) == nil)
    }
}
