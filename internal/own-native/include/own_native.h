#ifndef OWN_NATIVE_H
#define OWN_NATIVE_H
/* acme's own native helpers: the version and a checksum used by own-native-py. */
const char *own_native_version(void);
unsigned long own_native_checksum(const char *data);
#endif
