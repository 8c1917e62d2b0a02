#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The fingerprint check of tests/e2e/awg.sh and awg_plain.sh: read a tcpdump capture
(pcap, Ethernet) and look at every UDP payload for what DPI rules match in WireGuard:
a 148-byte payload starting 01 00 00 00 (initiation), a 92-byte one starting 02 00 00 00
(response), any starting 04 00 00 00 (data).

  pcap_wg.py FILE --obfuscated [--s1 N --s2 N --jmin N --jmax N]
      pass when no packet matches, and (informative) the padded handshakes and the junk
      are seen at their sizes
  pcap_wg.py FILE --plain
      pass when the patterns do match (the check is not vacuous: plain WireGuard is seen)
"""
import argparse
import struct
import sys


def udp_payloads(path):
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            return
        magic = struct.unpack("<I", head[:4])[0]
        endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            _, _, incl, _ = struct.unpack(endian + "IIII", rec)
            frame = f.read(incl)
            eth = struct.unpack("!H", frame[12:14])[0]
            if eth == 0x0800:
                ihl = (frame[14] & 0x0F) * 4
                if frame[23] != 17:
                    continue
                udp = frame[14 + ihl:]
            elif eth == 0x86DD:
                if frame[20] != 17:
                    continue
                udp = frame[54:]
            else:
                continue
            length = struct.unpack("!H", udp[4:6])[0]
            yield udp[8:length]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--obfuscated", action="store_true")
    mode.add_argument("--plain", action="store_true")
    ap.add_argument("--s1", type=int, default=0)
    ap.add_argument("--s2", type=int, default=0)
    ap.add_argument("--jmin", type=int, default=-1)
    ap.add_argument("--jmax", type=int, default=-1)
    a = ap.parse_args()

    total = init = resp = data = 0
    sizes = {}
    for p in udp_payloads(a.pcap):
        total += 1
        sizes[len(p)] = sizes.get(len(p), 0) + 1
        head = p[:4]
        init += len(p) == 148 and head == b"\x01\x00\x00\x00"
        resp += len(p) == 92 and head == b"\x02\x00\x00\x00"
        data += head == b"\x04\x00\x00\x00"
    print(f"{total} UDP payloads; WireGuard patterns: {init} initiations (148, 01000000), "
          f"{resp} responses (92, 02000000), {data} data (04000000)")
    if a.plain:
        return 0 if total and init and data else 1
    padded_init = sizes.get(148 + a.s1, 0)
    padded_resp = sizes.get(92 + a.s2, 0)
    junk = sum(n for s, n in sizes.items() if a.jmin <= s <= a.jmax) if a.jmin >= 0 else 0
    print(f"sizes seen: {padded_init} of {148 + a.s1} (padded initiations), "
          f"{padded_resp} of {92 + a.s2} (padded responses), "
          f"{junk} in [{a.jmin}, {a.jmax}] (junk)")
    return 0 if total >= 20 and init == resp == data == 0 and padded_init else 1


if __name__ == "__main__":
    sys.exit(main())
