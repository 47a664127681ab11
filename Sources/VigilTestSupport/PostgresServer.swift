// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL cluster for one test: Debian's server binaries, a data directory in a temporary
/// folder, listening on a free loopback port with trust authentication, stopped and deleted when released.
/// `scripts/test` installs the server (`postgresql-15`); without it the test fails and says so.
public final class PostgresServer: @unchecked Sendable {
    public let port: Int
    public let user = "vigil"
    private let directory: URL
    private let binaries: URL
    private let asUser: String?

    /// Creates and starts a cluster (about 1 s).
    public init() throws {
        guard let binaries = Self.findBinaries() else {
            throw TestSupportError(
                "PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql-15)"
            )
        }
        self.binaries = binaries
        self.directory = try Scratch.folder("vigil-pg")
        // initdb refuses to run as root; the package's `postgres` user owns the cluster then.
        self.asUser = getuid() == 0 ? "postgres" : nil
        if let owner = self.asUser {
            try Self.run("/bin/chown", [owner, self.directory.path])
        }
        self.port = try LoopbackPort.free()
        try self.binary(
            "initdb",
            [
                "-D", self.directory.appendingPathComponent("data").path, "-U", self.user, "--auth=trust", "-E", "UTF8",
                "--no-locale",
            ]
        )
        try self.start()
    }

    deinit {
        try? self.binary(
            "pg_ctl",
            ["-D", self.directory.appendingPathComponent("data").path, "-w", "stop", "-m", "immediate"]
        )
        try? FileManager.default.removeItem(at: self.directory)
    }

    /// Creates a database and returns its URL.
    public func createDatabase(_ name: String = "vigil_\(UInt32.random(in: 0...UInt32.max))") throws -> String {
        try self.binary("createdb", ["-h", "127.0.0.1", "-p", "\(self.port)", "-U", self.user, name])
        return "postgres://\(self.user)@127.0.0.1:\(self.port)/\(name)?sslmode=disable"
    }

    /// Runs SQL through psql and returns its unaligned output.
    public func psql(_ database: String, _ sql: String) throws -> String {
        try self.binary(
            "psql",
            ["-h", "127.0.0.1", "-p", "\(self.port)", "-U", self.user, "-d", database, "-Atc", sql]
        )
    }

    /// Stops the server at once, as a crash would (the data stays).
    public func stop() throws {
        try self.binary(
            "pg_ctl",
            ["-D", self.directory.appendingPathComponent("data").path, "-w", "stop", "-m", "immediate"]
        )
    }

    /// Starts the server (again, after ``stop()``).
    public func start() throws {
        try self.binary(
            "pg_ctl",
            [
                "-D", self.directory.appendingPathComponent("data").path, "-l",
                self.directory.appendingPathComponent("pg.log").path,
                "-w", "start", "-o",
                "-c listen_addresses=127.0.0.1 -p \(self.port) -k \(self.directory.path) -c fsync=off",
            ]
        )
    }

    @discardableResult
    private func binary(_ name: String, _ arguments: [String]) throws -> String {
        let path = self.binaries.appendingPathComponent(name).path
        if let owner = self.asUser {
            return try Self.run("/usr/sbin/runuser", ["-u", owner, "--", path] + arguments)
        }
        return try Self.run(path, arguments)
    }

    private static func findBinaries() -> URL? {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return versions.compactMap(Int.init).sorted().reversed().map {
            root.appendingPathComponent("\($0)/bin")
        }.first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("initdb").path) }
    }

    /// Runs a program to its end, its output in a file. posix_spawn and waitpid, not Foundation's Process: the
    /// server `pg_ctl start` leaves behind inherits Process's status pipe, and Process would wait for it too.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let outputPath = Scratch.path("vigil-pg", suffix: "out").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw TestSupportError("cannot start \(executable): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // Exited normally with status 0.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw TestSupportError("\(executable) \(arguments.joined(separator: " ")) failed: \(text)")
        }
        return text
    }
}

/// A test fixture failed to set up.
public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
