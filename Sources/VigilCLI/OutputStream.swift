// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A buffered writer to a file descriptor (stdout by default), flushed in 64 KiB writes.
struct OutputStream {
    private var buffer: [UInt8] = []
    private let descriptor: Int32

    /// Creates a writer to `descriptor`.
    init(descriptor: Int32 = 1) {
        self.descriptor = descriptor
        self.buffer.reserveCapacity(1 << 16)
    }

    /// Appends text.
    mutating func write(_ text: String) {
        self.buffer.append(contentsOf: text.utf8)
        if self.buffer.count >= 1 << 16 { self.flush() }
    }

    /// Appends raw bytes.
    mutating func write(bytes: some Sequence<UInt8>) {
        self.buffer.append(contentsOf: bytes)
        if self.buffer.count >= 1 << 16 { self.flush() }
    }

    /// Writes everything buffered.
    mutating func flush() {
        var offset = 0
        while offset < self.buffer.count {
            let written = self.buffer[offset...].withUnsafeBytes { raw in
                Glibc.write(self.descriptor, raw.baseAddress, raw.count)
            }
            if written <= 0 {
                if written < 0 && errno == EINTR { continue }
                break
            }
            offset += written
        }
        self.buffer.removeAll(keepingCapacity: true)
    }
}

/// Prints a message to standard error.
func printError(_ message: String) {
    var stream = OutputStream(descriptor: 2)
    stream.write(message + "\n")
    stream.flush()
}

/// Whether a descriptor is an interactive terminal.
func isTerminal(_ descriptor: Int32) -> Bool { isatty(descriptor) == 1 }
