// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing

@testable import VigilCore

@Suite struct VariableKindTests {
    @Test(arguments: [
        ("10.0.0.1", VariableKind.ipv4), ("fe80::1ff:fe23:4567:890a", .ipv6), ("db-1.internal:5432", .hostPort),
        ("42", .number), ("-3.5", .number), ("0x1f", .hex), ("123e4567-e89b-12d3-a456-426614174000", .uuid),
        ("/var/log/syslog", .path), ("https://example.com/a", .url), ("150ms", .duration), ("10MB", .size),
        ("2024-10-10T13:55:36Z", .time), ("13:55:36", .time), ("bob@example.com", .email), ("true", .boolean),
        ("blk_-1608", .identifier), ("Bye Bye", .text), ("deadbeef0042", .hex),
    ])
    func classifiesParameterValues(_ value: String, _ kind: VariableKind) {
        #expect(VariableKind.classify(value) == kind)
    }
}
