/*
 * The check the C smoke programs share: CHECK(expr, want) prints a FAIL
 * line and counts a failure when expr is not want; main() returns
 * `failures != 0`.
 */
#ifndef PNV_IOMMU_TEST_CHECK_H
#define PNV_IOMMU_TEST_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(expr, want)                                                    \
	do {                                                                 \
		long long got_ = (long long)(expr);                          \
		if (got_ != (long long)(want)) {                             \
			printf("FAIL %s = %lld, want %lld\n", #expr, got_,   \
			       (long long)(want));                           \
			failures++;                                          \
		}                                                            \
	} while (0)

#endif
