// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import CZlib

/// gzip and zlib bodies (`Content-Encoding: gzip` / `deflate`), inflated by the system zlib with a bound on
/// the output so a small bomb cannot exhaust memory.
public enum Gzip {
    /// Inflates a gzip (or zlib) stream; throws when it is damaged or inflates past `maximumLength`.
    public static func decompress(_ input: [UInt8], maximumLength: Int) throws(IngestError) -> [UInt8] {
        guard !input.isEmpty else { throw IngestError("gzip: empty body") }
        var stream = z_stream()
        // 15 window bits + 32: accept both gzip and zlib headers.
        guard inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw IngestError("gzip: cannot initialise zlib")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(max(input.count * 4, 16 << 10), 1 << 20))
        var status: Int32 = Z_OK
        var input = input
        let failure: String? = input.withUnsafeMutableBufferPointer { source -> String? in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            while status != Z_STREAM_END {
                let produced = chunk.withUnsafeMutableBufferPointer { target -> Int in
                    stream.next_out = target.baseAddress
                    stream.avail_out = UInt32(target.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return target.count - Int(stream.avail_out)
                }
                switch status {
                case Z_OK, Z_STREAM_END: break
                case Z_BUF_ERROR where produced > 0: break
                case Z_BUF_ERROR: return "gzip: the stream is truncated"
                default:
                    let reason = stream.msg.map { String(cString: $0) } ?? "code \(status)"
                    return "gzip: the stream is damaged (\(reason))"
                }
                guard output.count + produced <= maximumLength else {
                    return "gzip: the body inflates past the limit of \(maximumLength) bytes"
                }
                output.append(contentsOf: chunk[0..<produced])
                if status != Z_STREAM_END && stream.avail_in == 0 && produced == 0 {
                    return "gzip: the stream is truncated"
                }
            }
            return nil
        }
        if let failure { throw IngestError(failure) }
        return output
    }

    /// Compresses bytes as gzip (level 1), for tests and load generators.
    public static func compress(_ input: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        // 15 window bits + 16: write a gzip header; memory level 8 is zlib's default.
        guard
            deflateInit2_(
                &stream,
                1,
                Z_DEFLATED,
                15 + 16,
                8,
                Z_DEFAULT_STRATEGY,
                zlibVersion(),
                Int32(MemoryLayout<z_stream>.size)
            ) == Z_OK
        else { return [] }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        var input = input
        let written = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target -> Int in
                stream.next_in = source.baseAddress
                stream.avail_in = UInt32(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = UInt32(target.count)
                _ = deflate(&stream, Z_FINISH)
                return target.count - Int(stream.avail_out)
            }
        }
        return Array(output[0..<written])
    }
}
