#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""lib/gw's layers call one way only (lib/gw/state/gw_state.h, docs/design.md "The modules").

Reads the objects of the built libwgdp.a with nm: every global symbol a file of lib/gw
uses must be defined in its own layer or one below it.

    lib/allowedips, lib/nat   (tables; no lib/gw symbol at all)
    gw/state                  the shared state
    gw/dp                     the workers' data path
    gw/ctl                    control and handshake lcores, servers
    gw/gw.c                   builds the gateway over all of them

Usage: check_layers.py LIBWGDP.a      exit 0: the rule holds, 1: calls that break it
       check_layers.py --self-test    the checker finds a planted upward call
"""
import subprocess
import sys

RANKS = [("gw_gw.c.o", 4, "gw.c"), ("gw_ctl_", 3, "ctl"), ("gw_dp_", 2, "dp"),
         ("gw_state_", 1, "state"), ("", 0, "tables")]


def layer(member):
    base = member.rsplit("/", 1)[-1]
    for prefix, rank, name in RANKS:
        if base.startswith(prefix):
            return rank, name
    raise AssertionError(base)


def source(member):
    base = member.rsplit("/", 1)[-1][: -len(".c.o")]
    for prefix in ("gw_state_", "gw_dp_", "gw_ctl_"):
        if base.startswith(prefix):
            return prefix[3:-1] + "/" + base[len(prefix):] + ".c"
    return base.replace("_", "/", 1) + ".c"


def check(listing):
    """listing: (member, kind, symbol) with kind 'U' for a use, else a definition.
    Returns (violations, counts of uses across layers, members per layer)."""
    defined, per_layer = {}, {}
    for member, kind, sym in listing:
        if kind != "U":
            defined[sym] = member
        per_layer.setdefault(layer(member)[1], set()).add(member)
    bad, across = [], {}
    for member, kind, sym in listing:
        if kind != "U" or sym not in defined or defined[sym] == member:
            continue
        (r_use, n_use), (r_def, n_def) = layer(member), layer(defined[sym])
        if r_def > r_use or (r_use == 0 and r_def > 0):
            bad.append("%s (%s) calls %s of %s (%s)" % (source(member), n_use, sym,
                                                      source(defined[sym]), n_def))
        elif n_use != n_def:
            across[(n_use, n_def)] = across.get((n_use, n_def), 0) + 1
    return bad, across, per_layer


def nm(archive):
    out = subprocess.run(["nm", "-A", "-g", archive], check=True, capture_output=True,
                         text=True).stdout
    listing = []
    for line in out.splitlines():
        # "ARCHIVE:MEMBER.c.o:[VALUE] KIND SYMBOL" (a use has no value)
        head, sep, rest = line.partition(".c.o:")
        fields = rest.split()
        if not sep or len(fields) < 2:
            continue
        member = head.split(":", 1)[-1] + ".c.o"
        listing.append((member, "U" if fields[-2] == "U" else "D", fields[-1]))
    return listing


def self_test():
    planted = [("gw_dp_dp_rx.c.o", "D", "wg_dp_rx_burst"),
               ("gw_ctl_hs.c.o", "D", "wg_hs_initiate"),
               ("gw_state_peer.c.o", "D", "wg_peer_get"),
               ("gw_ctl_hs.c.o", "U", "wg_dp_rx_burst"),     # ctl -> dp: allowed
               ("gw_dp_dp_rx.c.o", "U", "wg_peer_get"),      # dp -> state: allowed
               ("gw_dp_dp_rx.c.o", "U", "wg_hs_initiate"),   # dp -> ctl: not
               ("gw_state_peer.c.o", "U", "wg_dp_rx_burst")]  # state -> dp: not
    bad, across, _ = check(planted)
    ok = len(bad) == 2 and "wg_hs_initiate" in bad[0] and "wg_dp_rx_burst" in bad[1] and \
        across == {("ctl", "dp"): 1, ("dp", "state"): 1}
    print("self-test:", "found both planted upward calls" if ok else "FAILED: %r" % bad)
    return 0 if ok else 1


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    bad, across, per_layer = check(nm(sys.argv[1]))
    for name in ("state", "dp", "ctl"):
        if not per_layer.get(name):
            print("no objects of layer %s in %s: is this libwgdp.a?" % (name, sys.argv[1]))
            return 1
    print("objects: " + ", ".join("%s %d" % (n, len(m)) for n, m in sorted(per_layer.items())))
    print("uses across layers (all downward): " +
          ", ".join("%s -> %s %d" % (a, b, n) for (a, b), n in sorted(across.items())))
    for b in bad:
        print("UPWARD: " + b)
    print("%d upward calls" % len(bad))
    return 1 if bad else 0


sys.exit(main())
