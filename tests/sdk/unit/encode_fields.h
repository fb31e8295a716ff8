/* Literals of struct dray_field for the encoder tests. Lengths come from
   sizeof, so embedded NULs count. */
#ifndef DRAY_TESTS_ENCODE_FIELDS_H
#define DRAY_TESTS_ENCODE_FIELDS_H

#include "dray/dray_encode.h"

// clang-format off
#define F(kind, lit) {kind, lit, sizeof(lit) - 1, 0}
#define S(lit) F(DRAY_F_STRING, lit)
#define DEC(lit) F(DRAY_F_DECIMAL, lit)
#define NUL_F {DRAY_F_NULL, NULL, 0, 0}
#define INT_F(lit, v) {DRAY_F_INT, lit, sizeof(lit) - 1, v}
#define BOOL_F(v) {DRAY_F_BOOL, (v) ? "true" : "false", (v) ? 4 : 5, (v)}
#define TS_F(lit, us) {DRAY_F_TIMESTAMP, lit, sizeof(lit) - 1, us}
// clang-format on

#endif
