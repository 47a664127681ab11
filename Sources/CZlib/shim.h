// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0
// The system zlib, for gzip request bodies (Content-Encoding: gzip).
#include <zlib.h>
