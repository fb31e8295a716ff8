/*
 * dray_version.h - ABI and SDK version numbers, and the policy behind them.
 *
 * Compatibility policy (the full text is docs/ABI.md):
 *  - DRAY_ABI_MAJOR changes only for a breaking change. It is part of the
 *    entry symbol's name (dray_plugin_entry_v1), so a host never even calls
 *    a plugin of another major.
 *  - DRAY_ABI_MINOR grows for every additive change: a new host function, a
 *    new descriptor, vtable or info field, a new status, capability or enum
 *    value. Structs only grow at their end; nothing is reordered, retyped,
 *    removed or reused.
 *  - A host of minor H runs a plugin that declares min_host_abi_minor <= H.
 *    A plugin calls a host function added after its min_host_abi_minor only
 *    after DRAY_HOST_HAS(host, fn) says it is there.
 */
#ifndef DRAY_VERSION_H
#define DRAY_VERSION_H

#define DRAY_ABI_MAJOR 1
#define DRAY_ABI_MINOR 0

/* The SDK release; informational, never used for compatibility decisions. */
#define DRAY_SDK_VERSION_MAJOR 0
#define DRAY_SDK_VERSION_MINOR 1
#define DRAY_SDK_VERSION_PATCH 0
#define DRAY_SDK_VERSION_STRING "0.1.0"
#define DRAY_SDK_VERSION_HEX                                                   \
    ((DRAY_SDK_VERSION_MAJOR << 16) | (DRAY_SDK_VERSION_MINOR << 8) |          \
     DRAY_SDK_VERSION_PATCH)

#define DRAY__STR2(x) #x
#define DRAY__STR(x) DRAY__STR2(x)

/* Byte order part of the build signature. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define DRAY__BYTE_ORDER "be"
#else
#define DRAY__BYTE_ORDER "le"
#endif

/*
 * The build signature: the facts besides the ABI numbers that decide whether
 * a plugin's structs have the host's layout. It must match the host's
 * exactly; the loader names the part that differs.
 * Form: "abi<major>;ptr<bytes>;<le|be>".
 */
#define DRAY_BUILD_SIGNATURE                                                   \
    "abi" DRAY__STR(DRAY_ABI_MAJOR) ";ptr" DRAY__STR(                          \
        __SIZEOF_POINTER__) ";" DRAY__BYTE_ORDER

#endif /* DRAY_VERSION_H */
