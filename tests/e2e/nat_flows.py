#!/usr/bin/env python3
"""Traffic for the masquerade end-to-end test (tests/e2e/nat_masq.sh).

  nat_flows.py serve PORT LOG      on the "internet" host: a TCP and a UDP echo server on
                                   PORT; every peer address it sees goes into LOG, one a line
  nat_flows.py tcp HOST PORT N     N TCP connections at once, each sends 64 KiB and reads it
                                   back: exit 0 if every one got all its bytes back
  nat_flows.py udp HOST PORT N     N UDP sockets (N source ports, N flows) at once, each
                                   makes 5 DNS-like request/response exchanges: exit 0 if
                                   every socket got at least 4 answers, each the right one
  nat_flows.py refused HOST PORT   a UDP datagram to a closed port: exit 0 if the ICMP port
                                   unreachable came back (ECONNREFUSED on the socket)
"""
import os
import socket
import sys
import threading

BLOCK = 64 * 1024


def serve(port, log):
    lock = threading.Lock()
    seen = open(log, "a", buffering=1)

    def note(addr):
        with lock:
            seen.write(addr[0] + "\n")

    def tcp_conn(c, addr):
        note(addr)
        with c:
            while True:
                b = c.recv(65536)
                if not b:
                    return
                c.sendall(b)

    def tcp_loop():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(256)
        while True:
            c, addr = s.accept()
            threading.Thread(target=tcp_conn, args=(c, addr), daemon=True).start()

    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("0.0.0.0", port))
    threading.Thread(target=tcp_loop, daemon=True).start()
    print("listening", flush=True)
    while True:
        b, addr = u.recvfrom(2048)
        note(addr)
        u.sendto(b"answer:" + b, addr)


def tcp_one(host, port, ok, i):
    try:
        data = os.urandom(BLOCK)
        with socket.create_connection((host, port), timeout=15) as c:
            c.sendall(data)
            c.shutdown(socket.SHUT_WR)
            got = b""
            while len(got) < BLOCK:
                b = c.recv(65536)
                if not b:
                    break
                got += b
        ok[i] = got == data
    except OSError as e:
        print("tcp %d: %s" % (i, e))


def udp_one(host, port, ok, i):
    answers = 0
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    try:
        for q in range(5):
            msg = b"query %d.%d" % (i, q)
            s.sendto(msg, (host, port))
            try:
                b, _ = s.recvfrom(2048)
                answers += b == b"answer:" + msg
            except socket.timeout:
                pass
    finally:
        s.close()
    ok[i] = answers >= 4
    if not ok[i]:
        print("udp %d: %d of 5 answers" % (i, answers))


def parallel(fn, host, port, n):
    ok = [False] * n
    ts = [threading.Thread(target=fn, args=(host, port, ok, i)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("%d of %d flows completed" % (sum(ok), n))
    return 0 if all(ok) else 1


def refused(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.connect((host, port))
    for _ in range(3):
        try:
            s.send(b"anyone?")
            s.recv(2048)
        except ConnectionRefusedError:
            print("port unreachable came back")
            return 0
        except socket.timeout:
            continue
    print("no port unreachable came back")
    return 1


def main():
    cmd = sys.argv[1]
    if cmd == "serve":
        serve(int(sys.argv[2]), sys.argv[3])
    elif cmd == "tcp":
        return parallel(tcp_one, sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "udp":
        return parallel(udp_one, sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "refused":
        return refused(sys.argv[2], int(sys.argv[3]))
    return 2


if __name__ == "__main__":
    sys.exit(main())
