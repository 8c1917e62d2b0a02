/* SPDX-License-Identifier: MIT */
/*
 * The gateway's HTTP listeners (lib/http): http.listen serves JSON-RPC as wg-api does,
 * with the same backend as the Unix socket, and GET /metrics; metrics.listen, if set,
 * serves GET /metrics alone (no credential: the page holds public keys and counters,
 * nothing that changes the gateway). Both are polled with the control sockets.
 */
#include <stdlib.h>
#include <string.h>

#include "gw_ctl.h"
#include "gw_log.h"

static int listen_one(struct wg_gw *gw, const struct wg_config_http *c,
		      struct wg_http_handlers **h, struct wg_http_server **srv,
		      const struct wg_rpc_backend *rpc, bool metrics, char *err, size_t errlen)
{
	char ep[WG_ADDR_STRLEN], why[256];

	*h = calloc(1, sizeof(**h));
	if (*h == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	**h = (struct wg_http_handlers){ .ctx = gw, .rpc = rpc,
					 .metrics = metrics ? wg_gw_metrics_start : NULL };
	*srv = wg_http_listen(c, *h, why, sizeof(why));
	wg_endpoint_format(ep, &c->listen);
	if (*srv == NULL) {
		snprintf(err, errlen, "%s: %s", rpc ? "http" : "metrics", why);
		return -1;
	}
	WG_LOG(NOTICE, gw, "%s on %s://%s%s%s%s", rpc ? "JSON-RPC over HTTP" : "metrics",
	       c->tls_certificate[0] ? "https" : "http", ep,
	       metrics ? (rpc ? ", GET /metrics" : "/metrics") : "",
	       c->n_tokens + c->n_file_tokens ? ", tokens required" : "",
	       c->tls_client_ca[0] ? ", client certificates required" : "");
	return 0;
}

int wg_gw_http_listen(struct wg_gw *gw, char *err, size_t errlen)
{
	if (gw->cfg.http.enabled) {
		if (wg_gw_rpc_backend(gw, err, errlen) != 0 ||
		    listen_one(gw, &gw->cfg.http, &gw->http_handlers, &gw->http, gw->rpc_backend,
			       gw->cfg.http.metrics, err, errlen) != 0)
			return -1;
	}
	if (gw->cfg.metrics.has_listen) {
		struct wg_config_http m = {
			.enabled = true, .listen = gw->cfg.metrics.listen,
			.max_request_bytes = 4096, .max_connections = 16, .idle_timeout = 10,
			.metrics = true,
		};

		if (listen_one(gw, &m, &gw->metrics_handlers, &gw->metrics_http, NULL, true, err,
			       errlen) != 0)
			return -1;
	}
	return 0;
}
