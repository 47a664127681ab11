// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

public import VigilCore

/// Performs one runbook action and says how it went. It does what it is given: whether an action may run at all is
/// decided by ``RemediationRun`` in the core.
public protocol ActionExecutor: Sendable {
    /// Performs `action`; never throws: a failure is a result with `succeeded == false`.
    func perform(_ action: Runbook.Action) async -> ActionResult
}

/// How an action went.
public struct ActionResult: Sendable, Equatable {
    public var succeeded: Bool
    /// The exit status or HTTP status and the start of the output, for the audit log.
    public var detail: String
    /// How long it took, from start to the exit or the answer.
    public var seconds: Double

    /// Creates a result.
    public init(succeeded: Bool, detail: String, seconds: Double = 0) {
        self.succeeded = succeeded
        self.detail = detail
        self.seconds = seconds
    }
}
