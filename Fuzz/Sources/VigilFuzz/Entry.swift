// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

import FuzzDriver

#if canImport(Glibc)
import Glibc
#endif

/// The target `VIGIL_FUZZ_TARGET` names, looked up once.
nonisolated(unsafe) var selectedTarget: FuzzTarget?

/// libFuzzer calls this once before the first input.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> Int32 {
    let wanted = getenv("VIGIL_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = fuzzTargets.first(where: { $0.name == wanted }) else {
        var message = "VIGIL_FUZZ_TARGET must name one of:\n"
        for target in fuzzTargets { message += "  \(target.name): \(target.summary)\n" }
        _ = message.withCString { write(2, $0, strlen($0)) }
        exit(2)
    }
    selectedTarget = target
    if let folder = getenv("VIGIL_FUZZ_SEEDS").map({ String(cString: $0) }), let seeds = fuzzSeeds[target.name] {
        for (index, seed) in seeds().enumerated() {
            let path = folder + "/seed-\(index)"
            guard let file = fopen(path, "wb") else { continue }
            _ = seed.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
            fclose(file)
        }
    }
    return 0
}

/// libFuzzer calls this with every input it tries.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selectedTarget?.run(bytes)
    return 0
}
