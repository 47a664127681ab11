// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// A line of the CRI container log format that the kubelet's runtime writes under `/var/log/containers` and
/// `/var/log/pods` (`2023-01-29T08:50:01.123456789Z stdout F connection refused`): the runtime's timestamp, the
/// stream, a tag, and the application's own line. The tag is `F` for a line's end and `P` for a part of a long
/// line that the next one continues. The application's line has a format of its own, read once it is unwrapped.
struct CRILogLine {
    /// When the runtime wrote the line.
    var time: Timestamp
    /// Whether the next line continues this one (`P`).
    var isPartial: Bool
    /// Where the application's line starts.
    var contentStart: Int

    /// Reads the envelope of `line`, or returns `nil` when the line is not in the CRI format.
    init?(_ line: Span<UInt8>) {
        let count = line.count
        var index = 0
        while index < count && line[index] != 0x20 { index += 1 }
        // An RFC 3339 time: `2023-01-29T08:50:01Z` at the shortest.
        guard index >= 20, index < count, line[4] == UInt8(ascii: "-"), line[10] == UInt8(ascii: "T"),
            let time = TimestampParser.parse(line.extracting(0..<index))
        else { return nil }
        index += 1
        guard index + 8 <= count, line.holds(Self.stdout, at: index) || line.holds(Self.stderr, at: index) else {
            return nil
        }
        index += 7
        let tag = line[index]
        guard tag == UInt8(ascii: "F") || tag == UInt8(ascii: "P") else { return nil }
        index += 1
        guard index == count || line[index] == 0x20 else { return nil }
        self.time = time
        self.isPartial = tag == UInt8(ascii: "P")
        self.contentStart = Swift.min(count, index + 1)
    }

    /// The streams, each with the space that follows it.
    private static let stdout = Array("stdout ".utf8)
    private static let stderr = Array("stderr ".utf8)
}
