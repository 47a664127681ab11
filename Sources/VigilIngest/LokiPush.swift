// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import VigilCore

/// Decodes the Loki push API (`POST /loki/api/v1/push`) in both of its encodings: JSON, and snappy-compressed
/// protobuf (`logproto.PushRequest`).
public enum LokiPush {
    /// Limits applied while decoding; a request over any of them is rejected as a whole.
    public struct Limits: Sendable {
        /// The longest line accepted, in bytes (Loki's own default `max_line_size` is 256 KiB).
        public var maximumLineBytes = 256 * 1024
        /// The most bytes a snappy body may expand to.
        public var maximumDecodedBytes = 64 << 20

        /// The defaults.
        public init() {}
    }

    /// Decodes a JSON body: `{"streams":[{"stream":{"app":"x"},"values":[["<unix ns>","line"], ...]}]}`.
    public static func decodeJSON(_ body: [UInt8], limits: Limits = Limits()) throws(IngestError) -> [LogBatch] {
        let document = try JSONParser.parse(body)
        guard let streams = document["streams"]?.array else {
            throw IngestError("Loki push: expected an object with a \"streams\" array")
        }
        var batches: [LogBatch] = []
        batches.reserveCapacity(streams.count)
        for (streamIndex, stream) in streams.enumerated() {
            guard let labelMembers = stream["stream"]?.members else {
                throw IngestError("Loki push: streams[\(streamIndex)] has no \"stream\" label object")
            }
            var labels: [(String, String)] = []
            for (name, value) in labelMembers {
                guard let text = value.string else {
                    throw IngestError("Loki push: streams[\(streamIndex)].stream.\(name) is not a string")
                }
                labels.append((name, text))
            }
            guard let values = stream["values"]?.array else {
                throw IngestError("Loki push: streams[\(streamIndex)] has no \"values\" array")
            }
            var entries: [LogEntry] = []
            entries.reserveCapacity(values.count)
            for (valueIndex, value) in values.enumerated() {
                guard let pair = value.array, pair.count == 2 || pair.count == 3,
                    let time = pair[0].string, let line = pair[1].string
                else {
                    throw IngestError(
                        "Loki push: streams[\(streamIndex)].values[\(valueIndex)] must be [\"<unix ns>\", \"<line>\"]"
                    )
                }
                guard let nanoseconds = Int64(time) else {
                    throw IngestError(
                        "Loki push: streams[\(streamIndex)].values[\(valueIndex)] timestamp \"\(time.prefix(40))\" "
                            + "is not an integer of Unix nanoseconds"
                    )
                }
                let bytes = Array(line.utf8)
                try check(bytes.count, limits: limits, stream: streamIndex, entry: valueIndex)
                entries.append(LogEntry(time: Timestamp(nanoseconds: nanoseconds), line: bytes))
            }
            batches.append(LogBatch(stream: streamKey(labels), entries: entries))
        }
        return batches
    }

    /// Decodes a snappy-compressed protobuf body (what Promtail, Grafana Alloy and the Loki clients send).
    public static func decodeProtobuf(_ body: [UInt8], limits: Limits = Limits()) throws(IngestError) -> [LogBatch] {
        let raw = try Snappy.decompress(body, maximumLength: limits.maximumDecodedBytes)
        var request = ProtobufReader(raw[...])
        var batches: [LogBatch] = []
        var streamIndex = 0
        while !request.isAtEnd {
            let (number, wireType) = try request.field()
            guard number == 1, wireType == 2 else {
                try request.skip(wireType: wireType)
                continue
            }
            var stream = ProtobufReader(try request.lengthDelimited())
            var labelText = ""
            var entries: [LogEntry] = []
            while !stream.isAtEnd {
                let (field, type) = try stream.field()
                switch (field, type) {
                case (1, 2):
                    labelText = String(decoding: try stream.lengthDelimited(), as: UTF8.self)
                case (2, 2):
                    var entry = ProtobufReader(try stream.lengthDelimited())
                    var seconds: Int64 = 0
                    var nanos: Int64 = 0
                    var line: [UInt8] = []
                    while !entry.isAtEnd {
                        let (entryField, entryType) = try entry.field()
                        switch (entryField, entryType) {
                        case (1, 2):
                            var time = ProtobufReader(try entry.lengthDelimited())
                            while !time.isAtEnd {
                                let (timeField, timeType) = try time.field()
                                switch (timeField, timeType) {
                                case (1, 0): seconds = Int64(truncatingIfNeeded: try time.varint())
                                case (2, 0): nanos = Int64(Int32(truncatingIfNeeded: try time.varint()))
                                default: try time.skip(wireType: timeType)
                                }
                            }
                        case (2, 2):
                            line = Array(try entry.lengthDelimited())
                        default:
                            try entry.skip(wireType: entryType)
                        }
                    }
                    try check(line.count, limits: limits, stream: streamIndex, entry: entries.count)
                    let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
                    guard !overflow, nanos >= 0, nanos < 1_000_000_000 else {
                        throw IngestError(
                            "Loki push: streams[\(streamIndex)].entries[\(entries.count)] has an invalid timestamp"
                        )
                    }
                    entries.append(LogEntry(time: Timestamp(nanoseconds: product + nanos), line: line))
                default:
                    try stream.skip(wireType: type)
                }
            }
            let labels = try LabelSet.parse(labelText)
            batches.append(LogBatch(stream: streamKey(labels), entries: entries))
            streamIndex += 1
        }
        return batches
    }

    /// Encodes batches as a snappy-compressed protobuf push request (for tests and the load generator).
    public static func encodeProtobuf(_ streams: [(labels: String, entries: [LogEntry])]) -> [UInt8] {
        var request = ProtobufWriter()
        for stream in streams {
            var message = ProtobufWriter()
            message.field(1, bytes: Array(stream.labels.utf8))
            for entry in stream.entries {
                var time = ProtobufWriter()
                let (seconds, nanos) = entry.time.nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000)
                time.field(1, varint: UInt64(bitPattern: seconds))
                time.field(2, varint: UInt64(nanos))
                var encoded = ProtobufWriter()
                encoded.field(1, bytes: time.bytes)
                encoded.field(2, bytes: entry.line)
                message.field(2, bytes: encoded.bytes)
            }
            request.field(1, bytes: message.bytes)
        }
        return Snappy.compress(request.bytes)
    }

    /// The stream key Vigil files a Loki stream under: its service and source labels.
    public static func streamKey(_ labels: [(String, String)]) -> StreamKey {
        func first(_ names: [String]) -> String? {
            for name in names {
                if let value = labels.first(where: { $0.0 == name })?.1, !value.isEmpty { return value }
            }
            return nil
        }
        let service =
            first([
                "service_name", "service", "app", "application", "app_kubernetes_io_name", "job", "container", "unit",
            ])
            ?? "unknown"
        let source = first(["filename", "source", "stream", "container", "pod"]) ?? "loki"
        return StreamKey(service: service, source: source)
    }

    private static func check(_ length: Int, limits: Limits, stream: Int, entry: Int) throws(IngestError) {
        guard length <= limits.maximumLineBytes else {
            throw IngestError(
                "Loki push: streams[\(stream)] entry \(entry) is \(length) bytes, over the line limit of "
                    + "\(limits.maximumLineBytes)"
            )
        }
    }
}

/// Parses a Prometheus-style label set: `{job="api", filename="/var/log/a.log"}`.
public enum LabelSet {
    /// The pairs in order; escapes `\"`, `\\` and `\n` in values are decoded.
    public static func parse(_ text: String) throws(IngestError) -> [(String, String)] {
        func isNameByte(_ byte: UInt8) -> Bool {
            (byte | 0x20) &- 0x61 < 26 || byte &- 0x30 < 10 || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
        let bytes = Array(text.utf8)
        var index = 0
        func skipSpace() { while index < bytes.count && (bytes[index] == 0x20 || bytes[index] == 0x09) { index += 1 } }
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else {
            throw IngestError("label set \"\(text.prefix(80))\" must start with {")
        }
        index += 1
        var pairs: [(String, String)] = []
        while true {
            skipSpace()
            guard index < bytes.count else { throw IngestError("label set \"\(text.prefix(80))\" is not closed") }
            if bytes[index] == UInt8(ascii: "}") { break }
            let nameStart = index
            while index < bytes.count, isNameByte(bytes[index]) { index += 1 }
            guard index > nameStart else { throw IngestError("label set \"\(text.prefix(80))\": expected a name") }
            let name = String(decoding: bytes[nameStart..<index], as: UTF8.self)
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else {
                throw IngestError("label set \"\(text.prefix(80))\": expected = after \(name)")
            }
            index += 1
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw IngestError("label set \"\(text.prefix(80))\": expected a quoted value for \(name)")
            }
            index += 1
            var value: [UInt8] = []
            while true {
                guard index < bytes.count else {
                    throw IngestError("label set \"\(text.prefix(80))\": unterminated value of \(name)")
                }
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\"") { break }
                if byte == UInt8(ascii: "\\"), index < bytes.count {
                    let escaped = bytes[index]
                    index += 1
                    value.append(escaped == UInt8(ascii: "n") ? 0x0A : escaped)
                } else {
                    value.append(byte)
                }
            }
            pairs.append((name, String(decoding: value, as: UTF8.self)))
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: ",") { index += 1 }
        }
        return pairs
    }
}
