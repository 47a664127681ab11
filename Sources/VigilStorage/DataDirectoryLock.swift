// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Foundation

/// An exclusive lock on a data directory (`flock` on `LOCK` inside it), held for the life of the process: two
/// servers sharing one write-ahead log and checkpoint would overwrite each other's state.
public final class DataDirectoryLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock, or throws naming the process that holds it.
    public init(directory: String) throws {
        let path = URL(fileURLWithPath: directory).appendingPathComponent("LOCK").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw WALError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(
                in: .whitespacesAndNewlines
            )
            close(descriptor)
            throw WALError(
                "the data directory \(directory) is in use by another vigil (pid \(holder ?? "unknown")); "
                    + "stop it or choose another --data-dir"
            )
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        self.descriptor = descriptor
    }

    deinit { close(self.descriptor) }
}
