/* SPDX-License-Identifier: MIT */
/*
 * The gateway's log types, one per concern, named for EAL's --log-level option:
 * `--log-level=wgdp.*:debug`, `--log-level=wgdp.peer:info` (docs/operations.md). Each
 * line is "wgdp.TYPE: text". The data path logs nothing per packet; what it counts is in
 * the drop counters.
 */
#ifndef WG_GW_LOG_H
#define WG_GW_LOG_H

#include <rte_log.h>

extern int wg_logtype_gw;      /* wgdp.gw: start, stop, ports, listeners */
extern int wg_logtype_peer;    /* wgdp.peer: peer events (docs/operations.md) */
extern int wg_logtype_hs;      /* wgdp.hs: handshakes refused, load */
extern int wg_logtype_ctl;     /* wgdp.ctl: control sockets, HTTP, telemetry */

#define WG_LOG(level, type, fmt, ...) \
	rte_log(RTE_LOG_##level, wg_logtype_##type, "wgdp." #type ": " fmt "\n", ##__VA_ARGS__)

#endif
