/* SPDX-License-Identifier: MIT */
/* The log types of gw_log.h, registered when the program starts (EAL's constructors). */
#include "gw_log.h"

RTE_LOG_REGISTER(wg_logtype_gw, wgdp.gw, NOTICE);
RTE_LOG_REGISTER(wg_logtype_peer, wgdp.peer, INFO);
RTE_LOG_REGISTER(wg_logtype_hs, wgdp.hs, NOTICE);
RTE_LOG_REGISTER(wg_logtype_ctl, wgdp.ctl, NOTICE);
