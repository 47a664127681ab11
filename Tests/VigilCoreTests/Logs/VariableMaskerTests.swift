// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import PropertyBased
import Testing

@testable import VigilCore

@Suite struct VariableMaskerTests {
    let masker = VariableMasker()

    @Test(arguments: [
        (
            "PacketResponder 1 for block blk_38865049064139660 terminating",
            "PacketResponder <*> for block <*> terminating"
        ),
        (
            "Receiving block blk_-1608 src: /10.250.19.102:54106 dest: /10.250.19.102:50010",
            "Receiving block <*> src: <*>:<*> dest: <*>:<*>"
        ),
        (
            "Component State Change: Component \\042alt0\\042 is in the unavailable state (HWID=3180)",
            "Component State Change: Component <*> is in the unavailable state (HWID=<*>)"
        ),
        ("jk2_init() Found child 6725 in scoreboard slot 10", "jk2_init() Found child <*> in scoreboard slot <*>"),
        ("generating core.2275", "generating core.<*>"),
        ("Accepted password for root from 10.0.0.5 port 22 ssh2", "Accepted password for root from <*> port <*> ssh2"),
        ("took 150ms to copy 10MB, ok=true", "took <*> to copy <*>, ok=<*>"),
        ("request 123e4567-e89b-12d3-a456-426614174000 done", "request <*> done"),
        ("client fe80::1ff:fe23:4567:890a connected", "client <*> connected"),
        ("DHCPDISCOVER from 00:11:22:33:44:55 via eth1", "DHCPDISCOVER from <*> via eth1"),
        ("directory index forbidden by rule: /var/www/html/", "directory index forbidden by rule: <*>"),
        ("Retrying connect to server: msra-sa-41:8030.", "Retrying connect to server: <*>:<*>."),
        ("GET https://example.com/a/b?c=1 200", "GET https://<*> <*>"),
        (
            "connection from 10.0.0.1 () at Sun Jul 10 03:55:21 2005",
            "connection from <*> () at <*> <*> <*> <*>:<*>:<*> <*>"
        ),
    ])
    func masksVariables(_ input: String, _ expected: String) {
        #expect(self.masker.mask(input) == expected)
    }

    @Test func normalisesWhitespaceBetweenTokens() {
        #expect(self.masker.mask("  a \t b  ") == "a b")
        #expect(self.masker.mask("") == "")
    }

    @Test func maskingIsIdempotent() async {
        let tokens = Gen.oneOf(
            Gen.letterOrNumber.string(of: 1...8),
            Gen.int(in: 0...99999).map(String.init),
            Gen.always("user=42"),
            Gen.always("(HWID=7)"),
            Gen.always("/var/log/x.log"),
            Gen.always("10.1.2.3:80")
        )
        await propertyCheck(count: 300, input: tokens.array(of: 0...12)) { words in
            let once = self.masker.mask(words.joined(separator: " "))
            #expect(self.masker.mask(once) == once)
        }
    }

    @Test func neverKeepsADigitRunLongerThanANameAllows() async {
        await propertyCheck(count: 300, input: Gen.int(in: 1000...Int.max)) { number in
            let masked = self.masker.mask("value \(number) end")
            #expect(masked == "value <*> end")
        }
    }

    @Test func survivesInvalidUTF8() {
        var output: [UInt8] = []
        let bytes: [UInt8] = [0xFF, 0xFE, 0x20, 0x31, 0x32, 0x20, 0xC3]
        let tokens = self.masker.mask(bytes.span, into: &output)
        #expect(tokens == 3)
        #expect(Array(output[2...]) == Array(" <*> ".utf8) + [0xC3])
    }
}
