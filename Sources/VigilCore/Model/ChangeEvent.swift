// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Something people or automation changed: the first suspect when an incident follows it.
public struct ChangeEvent: Sendable, Hashable, Codable {
    /// What kind of change.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// A new version rolled out.
        case deploy
        /// A configuration changed.
        case config
        /// A feature flag flipped.
        case flag
        /// Capacity changed (replicas, instance size).
        case scale
        /// A workload was killed or restarted by its platform (OOMKilled, CrashLoopBackOff, evicted).
        case restart
    }

    /// The service that changed.
    public var service: String
    /// The kind of change.
    public var kind: Kind
    /// The version after the change, if there is one.
    public var version: String?
    /// When the change happened.
    public var time: Timestamp
    /// Free text: who, what, a link.
    public var description: String?

    /// Creates a change event.
    public init(service: String, kind: Kind, version: String? = nil, time: Timestamp, description: String? = nil) {
        self.service = service
        self.kind = kind
        self.version = version
        self.time = time
        self.description = description
    }
}
