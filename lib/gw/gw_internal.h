/* SPDX-License-Identifier: MIT */
/*
 * All three layers of lib/gw (state, dp, ctl: see state/gw_state.h), for gw.c, lib/sim and
 * the tests that look inside the gateway. A file of lib/gw includes the header of its own
 * layer instead.
 */
#ifndef WG_GW_INTERNAL_H
#define WG_GW_INTERNAL_H

#include "gw_ctl.h"

#endif
