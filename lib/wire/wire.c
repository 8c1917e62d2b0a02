/* SPDX-License-Identifier: MIT */
#include "wg_wire.h"

static const char *const result_names[WG_RESULT_COUNT] = {
#define WG_RESULT_NAME(name, text) [WG_##name] = text,
	WG_RESULTS(WG_RESULT_NAME)
#undef WG_RESULT_NAME
};

const char *wg_result_str(enum wg_result r)
{
	if ((unsigned)r >= WG_RESULT_COUNT)
		return "unknown result";
	return result_names[r];
}
