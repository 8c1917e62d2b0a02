/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for wgdpctl import (app/wgdpctl/import.c): any bytes as a wg-quick
 * file. Properties: no crash and no read past the input; a file it accepts gives a
 * configuration that libconfig reads without a syntax error (the values were kept out of
 * the quoting), whatever wgdp then thinks of the values themselves. libconfig itself is
 * the judge of that, not the text of wgdp's message, which quotes the input (an input
 * holding the words "syntax error" once made an accepted file look refused).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "../../app/wgdpctl/import.h"
#include "wg_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A valid recipe that the first byte may start the input with, so that a short run gets
 * past [Interface] into every setting. */
static const char recipe[] =
	"[Interface]\nAddress = 10.8.0.1/24\nListenPort = 51820\n"
	"PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n"
	"PostUp = iptables -A FORWARD -i %i -p tcp --dport 443 -j ACCEPT; iptables -A FORWARD "
	"-i %i -j DROP; iptables -t nat -A POSTROUTING -s 10.8.0.0/24 -o eth0 -j MASQUERADE\n"
	"[Peer]\nPublicKey = GEGSwyhx8WuT/igWRF+UsqPUkGe1DACyALymn3uFBjs=\n"
	"AllowedIPs = 10.8.0.2/32\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_opts o = { .input = "fuzz.conf", .quiet = true, .n_addresses = 1,
				 .addresses = { "203.0.113.5/24" } };
	char *text = NULL, err[WG_CONFIG_ERR_LEN], *buf;
	size_t len = 0, n, at;
	struct wg_config c;
	FILE *in, *out;
	int rc;

	if (size < 2)
		return 0;
	/* 0: the bytes alone; 1: the recipe, then the bytes; 2: the bytes inside it. */
	n = size - 2 + (data[0] % 3 ? sizeof(recipe) - 1 : 0);
	at = data[0] % 3 == 2 ? data[1] % (sizeof(recipe) - 1) : sizeof(recipe) - 1;
	buf = malloc(n + 1);
	if (buf == NULL)
		abort();
	if (data[0] % 3 == 0) {
		memcpy(buf, data + 2, size - 2);
	} else {
		memcpy(buf, recipe, at);
		memcpy(buf + at, data + 2, size - 2);
		memcpy(buf + at + size - 2, recipe + at, sizeof(recipe) - 1 - at);
	}
	in = n ? fmemopen(buf, n, "r") : NULL;
	if (in == NULL) {
		free(buf);
		return 0;
	}
	out = open_memstream(&text, &len);
	if (out == NULL)
		abort();
	rc = wgdpctl_import_stream(&o, in, out);
	fclose(in);
	if (fclose(out) != 0)
		abort();
	if (rc == 0) {
		config_t cfg;

		/* A syntax error, or an '@include' libconfig would try to follow. */
		config_init(&cfg);
		if (!config_read_string(&cfg, text))
			abort();
		config_destroy(&cfg);
		if (wg_config_parse(&c, text, "imported.conf", err, sizeof(err)) == 0)
			wg_config_free(&c);
	}
	free(text);
	free(buf);
	return 0;
}
