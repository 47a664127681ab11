// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Files and folders a test writes (configurations, data directories, case folders, logs), all under one folder per
/// test process, `vigil-tests-PID` in the system's temporary directory, which goes when the process exits. A run
/// that crashed leaves its folder; the next one removes every such folder whose process is gone.
public enum Scratch {
    /// A new, empty folder named `prefix-UUID`.
    public static func folder(_ prefix: String) throws -> URL {
        let folder = self.path(prefix)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Where a new file named `prefix-UUID` (plus `.suffix` when given) may be written; nothing is created.
    public static func path(_ prefix: String, suffix: String? = nil) -> URL {
        let name = "\(prefix)-\(UUID().uuidString)" + (suffix.map { ".\($0)" } ?? "")
        return root.appendingPathComponent(name)
    }

    /// The process's folder, made (and the leftovers of finished runs removed) on first use.
    private static let root: URL = {
        let temporary = FileManager.default.temporaryDirectory
        let prefix = "vigil-tests-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? []
        where name.hasPrefix(prefix) {
            if let pid = pid_t(name.dropFirst(prefix.count)), kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(at: temporary.appendingPathComponent(name))
            }
        }
        let root = URL(fileURLWithPath: rootPath)
        try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: Scratch.rootPath) }
        return root
    }()

    /// `root`'s path, for the exit handler (a C function: it captures nothing).
    private static let rootPath = FileManager.default.temporaryDirectory.appendingPathComponent(
        "vigil-tests-\(getpid())"
    ).path
}
