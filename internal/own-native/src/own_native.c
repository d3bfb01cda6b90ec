#include "own_native.h"

const char *own_native_version(void) { return "1.0.0"; }

/* djb2: small, deterministic, enough to check that the library is the one called */
unsigned long own_native_checksum(const char *data) {
    unsigned long hash = 5381;
    for (; *data; data++) hash = hash * 33 + (unsigned char)*data;
    return hash;
}
