/* SPDX-License-Identifier: MIT */
/*
 * The control layer (lib/gw/ctl): the control lcore's loop, handshakes (there and on the
 * handshake lcores), peers' timers and endpoints, configuration changes, and the socket,
 * HTTP and telemetry servers. Calls the data path (gw_dp.h) to send and the shared state.
 */
#ifndef WG_GW_CTL_H
#define WG_GW_CTL_H

#include "gw_dp.h"

/* The most bytes a socket's connection may hold of one request: the framer's default, or
 * enough for every peer the table holds (a setconf or AddPeers of all of them, about 150
 * bytes a peer with a /32 and a /128), whichever is larger. */
static inline size_t wg_gw_request_limit(const struct wg_gw *gw, size_t dflt)
{
	size_t full = (size_t)gw->max_peers * 256;

	return full > dflt ? full : dflt;
}

/* slice.c: a long request's pause point (cheap when the slice is not over); its argument
 * is the gateway, untyped so that it serves as a struct wg_yield or backend callback. */
void wg_gw_yield(void *gw);
void wg_pace_mark(struct wg_gw *gw);      /* the control loop looked at handshakes */
void wg_pace_sockets_begin(struct wg_gw *gw, const char *what);
void wg_pace_sockets_end(struct wg_gw *gw);
void wg_pace_peers(struct wg_gw *gw, uint64_t n);
/* ctrl.c: the control loop without its sockets and telemetry (what a yield runs). */
void wg_ctrl_service(struct wg_gw *gw, uint64_t now);

/* ctrl.c, hs.c, peer_ctl.c */
void wg_ctrl_handle_local(struct wg_gw *gw, struct rte_mbuf *m, uint64_t now);
void wg_ctrl_resolve(struct wg_gw *gw, struct rte_mbuf *m, uint64_t now);
void wg_ctrl_neigh_learned(struct wg_gw *gw, const struct wg_ip *ip, uint64_t now);
/* Answer an inner packet with an ICMP error of that kind (built and routed here). */
void wg_ctrl_icmp_error(struct wg_gw *gw, struct rte_mbuf *m, enum wg_icmp_error kind,
			uint32_t mtu, uint64_t now);
/* Ask for the MAC of a next hop (ARP or neighbour solicitation), at most once a second. */
void wg_ctrl_solicit(struct wg_gw *gw, unsigned port, const struct wg_ip *ip, uint64_t now);
/* Serve queued handshake messages for at most a slice of time (at least one message). */
void wg_hs_drain(struct wg_gw *gw, uint64_t now);
void wg_hs_initiate(struct wg_gw *gw, struct wg_peer *peer, uint64_t now);
void wg_hs_send_keepalive(struct wg_gw *gw, struct wg_peer *peer, uint64_t now);
void wg_peer_timers_run(struct wg_gw *gw, struct wg_peer *peer, uint64_t now);
void wg_peer_stage(struct wg_gw *gw, struct rte_mbuf *m, uint64_t now);
void wg_peer_flush_staged(struct wg_gw *gw, struct wg_peer *peer, uint64_t now);
void wg_peer_set_endpoint(struct wg_gw *gw, struct wg_peer *peer, const struct wg_endpoint *ep,
			  unsigned port, const uint8_t *mac);
/* Where to send: the configured endpoint, published once its next hop's MAC is known. */
void wg_peer_use_endpoint(struct wg_gw *gw, struct wg_peer *peer, const struct wg_endpoint *ep,
			  uint64_t now);
extern const struct wg_noise_callbacks wg_gw_noise_callbacks;

/* hs_lcore.c: handshake lcores */
int wg_hs_lcores_init(struct wg_gw *gw, unsigned n, const char *tag);
void wg_hs_lcores_free(struct wg_gw *gw);
/* Publish gw->dev's identity for the handshake lcores (after every key change). */
void wg_hs_identity_publish(struct wg_gw *gw);
/* Hand an admitted initiation (the message at msg_off in m's frame) to the handshake
 * lcores; false if there are none or no room (answer it here). */
bool wg_hs_offload(struct wg_gw *gw, struct rte_mbuf *m, size_t msg_off, size_t len,
		   uint32_t type);
/* Prepared initiations back from the handshake lcores. */
unsigned wg_hs_take_done(struct wg_gw *gw, struct rte_mbuf **ms, unsigned max);
struct wg_hs_job *wg_hs_job(struct rte_mbuf *m);

/* peer_events.c: what happened to peers, into the event ring and the log. A bulk change
 * (wg_gw_events_begin ... end) logs one summary line rather than one per peer. */
struct wg_endpoint;
void wg_gw_event(struct wg_gw *gw, unsigned kind, const uint8_t key[WG_KEY_LEN],
		 const struct wg_endpoint *ep, const struct wg_endpoint *old_ep);
/* A handshake completed (initiated_by_us: we sent the initiation). */
void wg_gw_event_handshake(struct wg_gw *gw, struct wg_peer *peer, bool initiated_by_us,
			   uint64_t now);
/* An authenticated packet from ep: roamed if it differs from where we sent to. Then the
 * endpoint is set (wg_peer_set_endpoint). */
void wg_gw_peer_learn_endpoint(struct wg_gw *gw, struct wg_peer *peer,
			       const struct wg_endpoint *ep, unsigned port, const uint8_t *mac);
/* Quiet peers (no handshake for REJECT_AFTER_TIME + the margin), as the sweep visits. */
void wg_gw_peer_check_quiet(struct wg_gw *gw, struct wg_peer *peer, uint64_t now);
void wg_gw_events_begin(struct wg_gw *gw);
void wg_gw_events_end(struct wg_gw *gw);
/* Disable (sessions ended, staged packets dropped) or enable a peer. */
void wg_gw_peer_set_disabled(struct wg_gw *gw, struct wg_peer *peer, bool disabled);
/* obfs.c: AmneziaWG's obfuscation on the gateway (docs/obfuscation.md) */
/* Publish gw->cfg.obfs for the workers (NULL when plain). 0, or -1 out of memory. */
int wg_gw_obfs_publish(struct wg_gw *gw);
/* Take new parameters (checked): published, and the data messages of obfuscated sessions
 * take the new h4 at once. */
int wg_gw_obfs_set(struct wg_gw *gw, const struct wg_obfs *o);
/* The type field of message type t in a form, by the control lcore's parameters. */
uint32_t wg_gw_obfs_type(const struct wg_gw *gw, unsigned t, bool obfuscated);
/* The form of the initiations we send a peer: the one it last used, else obfuscated
 * whenever obfuscation is configured. */
bool wg_gw_obfs_peer_form(const struct wg_gw *gw, const struct wg_peer *peer);
/* Send jc junk datagrams to ep (before an initiation in the obfuscated form). */
void wg_gw_obfs_send_junk(struct wg_gw *gw, const struct wg_peer_ep *ep);
/* A frame for a UDP payload of `len` bytes to ep, room left for the headers; NULL out of
 * buffers. Fill the payload, then send: the headers (IPv6's checksum covers the payload)
 * are written then; false (and freed) if no address of ep's family is ours. */
struct rte_mbuf *wg_gw_frame_alloc(struct wg_gw *gw, const struct wg_peer_ep *ep, size_t len,
				   uint8_t **payload);
bool wg_gw_frame_send(struct wg_gw *gw, const struct wg_peer_ep *ep, struct rte_mbuf *m);

/* apply.c: a parsed set request applied all or nothing (see the file). 0 or an errno. */
struct wg_uapi_set;
int wg_gw_apply(struct wg_gw *gw, const struct wg_uapi_set *s, char *why, size_t whylen);
/* Would wg_gw_apply succeed? The same checks, nothing changed. */
int wg_gw_validate(struct wg_gw *gw, const struct wg_uapi_set *s, char *why, size_t whylen);

/* uapi_srv.c: the `wg` socket */
struct wg_uapi_peer_info;
void wg_gw_peer_info(struct wg_gw *gw, struct wg_peer *peer, struct wg_uapi_peer_info *pi);
void wg_gw_ctl_poll(struct wg_gw *gw, uint64_t now);

/* telemetry.c: the telemetry thread's requests, served on the control lcore. */
void wg_gw_telemetry_poll(struct wg_gw *gw);
/* No more requests reach this gateway; those waiting are answered with an error. */
void wg_gw_telemetry_unregister(struct wg_gw *gw);

/* metrics.c: GET /metrics, streamed. */
struct wg_http_stream;
int wg_gw_metrics_start(void *ctx, struct wg_http_stream *s);

/* rpc_srv.c: the backend both JSON-RPC transports use (made once). */
int wg_gw_rpc_backend(struct wg_gw *gw, char *err, size_t errlen);

/* save.c: SaveConfig. 0, or -1 with a reason; *path is where it went. */
int wg_gw_save_config(struct wg_gw *gw, const char **path, uint32_t *peers, char *why,
		      size_t whylen);

#endif
