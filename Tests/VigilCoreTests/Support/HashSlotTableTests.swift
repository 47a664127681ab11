// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import PropertyBased
import Testing

@testable import VigilCore

@Suite struct HashSlotTableTests {
    /// The table against `Dictionary` on generated keys, including colliding low bits and growth.
    @Test func agreesWithDictionary() async {
        let key = Gen.oneOf(Gen.int(in: 0...63).map { UInt64($0) << 40 }, Gen.int(in: 0...Int.max).map { UInt64($0) })
        await propertyCheck(count: 100, input: key.array(of: 0...300)) { keys in
            var table = HashSlotTable(capacity: 4)
            var reference: [UInt64: Int] = [:]
            let pairs = keys.enumerated().map { ($0.element, $0.offset % 997) }
            for (key, slot) in pairs {
                table.set(slot, for: key)
                reference[key] = slot
            }
            #expect(table.count == reference.count)
            for (key, slot) in reference { #expect(table.slot(for: key) == slot) }
            #expect(table.slot(for: 0xDEAD_BEEF_0000_0001) == reference[0xDEAD_BEEF_0000_0001])
            table.removeAll()
            #expect(table.count == 0 && pairs.allSatisfy { table.slot(for: $0.0) == nil })
        }
    }
}
