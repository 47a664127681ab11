// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

// Nothing to import: the driver only supplies the executable's entry point (FuzzDriver.c).
