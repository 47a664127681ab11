// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import VigilStorage

#if canImport(Glibc)
import Glibc
#endif

/// Everything `vigil serve` can be told; every field has a default, so no configuration is required.
public struct ServerConfiguration: Sendable {
    /// The address to listen on (`127.0.0.1` by default: expose it deliberately).
    public var host = "127.0.0.1"
    /// The one HTTP port for ingest, API and `/metrics`.
    public var port = 3100
    /// Where the SQLite store and the write-ahead log live.
    public var dataDirectory = "./vigil-data"
    /// Pipeline shards (one task each); by default one per core.
    public var shards = ServerConfiguration.coreCount()
    /// When accepted input reaches the disk.
    public var walSync = WriteAheadLog.SyncPolicy.always
    /// The largest request body accepted (larger: 413).
    public var maximumBodyBytes = 16 << 20
    /// Lines and samples accepted but not yet processed before new input is refused with 429.
    public var maximumInFlight = 500_000
    /// Seconds between checkpoints.
    public var checkpointSeconds = 30.0
    /// Whether to watch this machine (CPU, memory, disk, network, system log) with no other configuration.
    public var monitorHost = true
    /// Seconds between host metric samples.
    public var hostSampleSeconds = 10.0
    /// Files to follow (glob patterns), e.g. `/var/log/app/*.log`.
    public var tailPatterns: [String] = []
    /// Whether personal data and secrets are masked before template mining.
    public var masksPII = true
    /// Retention of samples and findings.
    public var retention = SQLiteStore.Retention()

    /// The defaults.
    public init() {}

    /// The number of online processors.
    public static func coreCount() -> Int {
        max(1, min(64, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
    }
}
