/* SPDX-License-Identifier: MIT */
/*
 * The get reply, in wireguard-go's order and form (device/uapi.go, IpcGetOperation):
 * device lines, then per peer public_key first (it opens the peer for `wg`), the other
 * peer lines, the allowed IPs, and errno last. `wg` (ipc-uapi.h) ignores keys it does not
 * know and reads numbers as digits only, which decides the errno sign below.
 */
#include <errno.h>
#include <inttypes.h>

#include "uapi_buf.h"
#include "wg_crypto.h"
#include "wg_uapi.h"

static int format_obfs(struct wg_uapi_buf *b, const struct wg_obfs *o)
{
	const char *names[] = { "jc", "jmin", "jmax", "s1", "s2" };
	const unsigned v[] = { o->jc, o->jmin, o->jmax, o->s1, o->s2 };
	int err = 0;

	for (unsigned i = 0; i < 5 && !err; i++)
		if (v[i])
			err = uapi_printf(b, "%s=%u\n", names[i], v[i]);
	for (unsigned i = 0; i < 4 && !err; i++)
		if (o->h[i] != i + 1 && o->h[i] != 0)
			err = uapi_printf(b, "h%u=%" PRIu32 "\n", i + 1, o->h[i]);
	if (!err && o->accept_plain)
		err = uapi_printf(b, "accept_plain=true\n");
	return err;
}

int wg_uapi_format_device(struct wg_uapi_buf *b, const struct wg_uapi_device *d)
{
	int err = 0;

	/* An all-zero key is "no key", which wireguard-go shows by leaving the line out. */
	if (d->has_private_key && !wg_is_zero(d->private_key, WG_KEY_LEN))
		err = uapi_put_key(b, "private_key", d->private_key);
	if (!err && d->listen_port)
		err = uapi_printf(b, "listen_port=%u\n", (unsigned)d->listen_port);
	if (!err && d->fwmark)
		err = uapi_printf(b, "fwmark=%" PRIu32 "\n", d->fwmark);
	/* AmneziaWG's keys as amneziawg-go writes them (values that differ from plain
	 * WireGuard), with the device's keys: `wg` skips keys it does not know, so `wg show`,
	 * `showconf` and `syncconf` go on as before; an awg-style client reads them. */
	if (!err)
		err = format_obfs(b, &d->obfs);
	return err;
}

static int format_allowed_ips(struct wg_uapi_buf *b, const struct wg_uapi_peer_info *p)
{
	char text[WG_ADDR_STRLEN];
	int err = 0;

	for (size_t i = 0; i < p->n_allowed_ips && !err; i++) {
		wg_prefix_format(text, &p->allowed_ips[i]);
		err = uapi_printf(b, "allowed_ip=%s\n", text);
	}
	return err;
}

int wg_uapi_format_peer(struct wg_uapi_buf *b, const struct wg_uapi_peer_info *p)
{
	static const uint8_t none[WG_KEY_LEN];
	/* `wg` reads the handshake time as a number up to INT64_MAX and refuses the whole
	 * reply past it. */
	uint64_t sec = p->last_handshake_sec > INT64_MAX ? INT64_MAX : p->last_handshake_sec;
	char text[WG_ADDR_STRLEN];
	int err;

	err = uapi_put_key(b, "public_key", p->public_key);
	/* Always present, zeros for none, as wireguard-go writes it. */
	if (!err)
		err = uapi_put_key(b, "preshared_key",
				   p->has_preshared_key ? p->preshared_key : none);
	if (!err)
		err = uapi_printf(b, "protocol_version=1\n");
	if (!err && p->has_endpoint) {
		wg_endpoint_format(text, &p->endpoint);
		err = uapi_printf(b, "endpoint=%s\n", text);
	}
	if (!err)
		err = uapi_printf(b, "last_handshake_time_sec=%" PRIu64 "\n"
				  "last_handshake_time_nsec=%" PRIu32 "\n"
				  "tx_bytes=%" PRIu64 "\nrx_bytes=%" PRIu64 "\n"
				  "persistent_keepalive_interval=%u\n",
				  sec, p->last_handshake_nsec, p->tx_bytes, p->rx_bytes,
				  (unsigned)p->keepalive);
	return err ? err : format_allowed_ips(b, p);
}

int wg_uapi_format_errno(struct wg_uapi_buf *b, enum wg_uapi_kind kind, int err)
{
	/* After a set, wg sets errno to minus the number it reads: wireguard-go's "-22"
	 * prints "Invalid argument" where "22" would print "Unknown error -22". A get reply's
	 * errno must be digits (a sign makes wg report "Protocol error" instead). */
	if (err > 0 && kind != WG_UAPI_GET)
		err = -err;
	return uapi_printf(b, "errno=%d\n\n", err);
}
