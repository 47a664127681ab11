// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import Testing
import VigilIngest

@Suite struct ExternalScalerMessagesTests {
    /// `ScaledObjectRef{name: "web", namespace: "shop", scalerMetadata: {series: "rps", targetValue: "50"}}` as
    /// protoc encodes it.
    static let reference: [UInt8] =
        [0x0A, 3] + Array("web".utf8) + [0x12, 4] + Array("shop".utf8)
        + [0x1A, 13, 0x0A, 6] + Array("series".utf8) + [0x12, 3] + Array("rps".utf8)
        + [0x1A, 17, 0x0A, 11] + Array("targetValue".utf8) + [0x12, 2] + Array("50".utf8)

    @Test func aScaledObjectRefReadsWithItsMetadata() throws {
        let reference = try ExternalScalerMessages.scaledObjectRef(Self.reference[...])
        #expect(reference.name == "web" && reference.namespace == "shop")
        #expect(reference.scalerMetadata == ["series": "rps", "targetValue": "50"])
        // An unknown field (a newer KEDA) is skipped.
        let newer = try ExternalScalerMessages.scaledObjectRef((Self.reference + [0x20, 0x07])[...])
        #expect(newer == reference)
    }

    @Test func aMetricsRequestCarriesItsReference() throws {
        let request: [UInt8] =
            [0x0A, UInt8(Self.reference.count)] + Self.reference + [0x12, 3] + Array("rps".utf8)
        let (reference, name) = try ExternalScalerMessages.metricsRequest(request[...])
        #expect(reference.scalerMetadata["series"] == "rps" && name == "rps")
    }

    @Test func responsesAreEncodedWithTheWholeAndTheExactNumber() {
        #expect(ExternalScalerMessages.isActiveResponse(true) == [0x08, 0x01])
        #expect(ExternalScalerMessages.isActiveResponse(false) == [0x08, 0x00])
        // MetricValue{metricName: "m", metricValue: 13 (12.5 rounded up), metricValueFloat: 12.5}.
        let bytes = ExternalScalerMessages.metricsResponse([.init(name: "m", value: 12.5)])
        #expect(bytes == [0x0A, 14, 0x0A, 1, 0x6D, 0x10, 13, 0x19] + (12.5).bitPattern.littleEndianBytes)
        // Not a number: no whole number to give, and no trap.
        #expect(ExternalScalerMessages.metricSpecResponse([.init(name: "m", value: .infinity)]).count == 16)
    }

    @Test func malformedMessagesAreErrors() {
        for bytes: [UInt8] in [[0x0A, 9, 0x61], [0x0A, 2, 0xFF, 0xFE], [0x1A, 3, 0x0A, 5, 0x61], [0x0F]] {
            #expect(throws: IngestError.self) { try ExternalScalerMessages.scaledObjectRef(bytes[...]) }
        }
    }
}

extension UInt64 {
    fileprivate var littleEndianBytes: [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: self >> (8 * $0)) } }
}
