// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

// SwiftPM links an executable target's entry point as `<module>_main`; libFuzzer's own `main` is therefore
// replaced by this one, which hands control to libFuzzer's driver with the Swift callbacks.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int VigilFuzz_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
