#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The Debian package: built from this tree, installed with apt, its service run, purged.

    package.py SOURCE_ROOT

1. Copies the tree (git's tracked and untracked-but-not-ignored files) to a temporary
   directory and runs `dpkg-buildpackage -us -uc -b` there; the source tree must be
   unchanged afterwards (`git status`).
2. Checks the .deb: the version is meson's, the files and the root-only /etc/wgdp are
   there, Depends came from the binaries' libraries (${shlibs:Depends}).
3. `apt-get install ./wgdp_VERSION_amd64.deb`, then `systemd-analyze verify` of the
   installed unit (it checks the programs and man pages it names exist, too).
4. No systemd runs here, so the test does what systemd would for instance NAME: writes
   /etc/wgdp/NAME.conf (two net_null ports, one peer) and /etc/wgdp/NAME.eal (--no-huge
   -m 512 --no-pci --no-shconf), reads the installed unit's EnvironmentFile= and ExecStart=
   (specifiers and $VARIABLES expanded as systemd does; see unitfile.py) and runs that
   command. The gateway must become ready, answer `wg show NAME` with its key, port and
   peer, answer JSON-RPC (wgdpctl -i NAME GetDeviceInfo), take a peer added by `wg set`
   (seen by ListPeers), and after the unit's KillSignal exit with status 0 within 5 s,
   its sockets removed. Then the upgrade procedure of docs/install.md: `wg showconf`
   before the stop, a restart (the peer added at run time is gone), `wg syncconf` (it is
   back).
5. `apt-get purge wgdp`: the package is gone and so is every file and directory it had
   installed that was not there before.
Everything it made is removed on failure too. Needs root: exit 77 (skipped) otherwise,
and also when a wgdp package is already installed (the test would replace and purge it).
Exit 0 pass, 1 fail.
"""
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import unitfile  # noqa: E402

UNIT = '/lib/systemd/system/wgdp@.service'
ETC = '/etc/wgdp'
STOP_WITHIN = 5.0
TOOLS = ['dpkg-buildpackage', 'dpkg-deb', 'dpkg-parsechangelog', 'apt-get', 'systemd-analyze',
         'wg', 'man', 'git']
failures = []


def check(ok, what, detail=''):
    print(('ok     ' if ok else 'FAILED ') + what, flush=True)
    if not ok:
        failures.append(what)
        if detail:
            print('  | ' + detail.rstrip().replace('\n', '\n  | '), flush=True)
    return ok


def run(argv, **kw):
    kw.setdefault('capture_output', True)
    kw.setdefault('text', True)
    return subprocess.run(argv, **kw)


def pkg_state():
    r = run(['dpkg-query', '-W', '-f=${db:Status-Status}', 'wgdp'])
    return r.stdout.strip() if r.returncode == 0 else 'not-installed'


def copy_tree(src, dst):
    """The tree as git sees it: tracked files and untracked ones that are not ignored."""
    r = run(['git', '-C', src, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'])
    if r.returncode != 0:
        raise RuntimeError('git ls-files failed: ' + r.stderr)
    for rel in filter(None, r.stdout.split('\0')):
        s = os.path.join(src, rel)
        if not os.path.lexists(s):
            continue   # deleted in the work tree
        os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
        shutil.copy2(s, os.path.join(dst, rel), follow_symlinks=False)


def git_status(src):
    return run(['git', '-C', src, 'status', '--porcelain', '--untracked-files=all']).stdout


def meson_version(src):
    with open(os.path.join(src, 'meson.build'), encoding='utf-8') as f:
        m = re.search(r"version:\s*'([^']+)'", f.read())
    return m.group(1) if m else None


class Service:
    """The unit's ExecStart for one instance, run as systemd would run it."""

    def __init__(self, work):
        self.name = f'wgdpinst{os.getpid() % 10000000}'   # at most 15 characters
        self.work = work
        self.proc = None
        self.files = [f'{ETC}/{self.name}.conf', f'{ETC}/{self.name}.eal']
        self.log_path = os.path.join(work, 'service.log')

    def log(self):
        try:
            with open(self.log_path, encoding='utf-8', errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def write_config(self):
        key = run(['wg', 'genkey']).stdout.strip()
        self.public = run(['wg', 'pubkey'], input=key + '\n').stdout.strip()
        self.peer = run(['wg', 'pubkey'], input=run(['wg', 'genkey']).stdout).stdout.strip()
        self.peer2 = run(['wg', 'pubkey'], input=run(['wg', 'genkey']).stdout).stdout.strip()
        conf = f'''# install test: two net_null ports, one peer
interface = {{ private_key = "{key}"; listen_port = 51820; }};
ports = (
  {{ name = "wan"; device = "net_null0"; role = "wan"; addresses = [ "192.0.2.1/24" ]; }},
  {{ name = "lan"; device = "net_null1"; role = "lan"; addresses = [ "198.51.100.1/24" ]; }}
);
peers = ( {{ public_key = "{self.peer}"; allowed_ips = [ "10.200.0.2/32" ]; }} );
'''
        eal = '# install test: no hugepages, no NICs\n' \
              'WGDP_EAL="-l 0 --no-huge -m 512 --no-pci --no-shconf"\n'
        for path, text in zip(self.files, (conf, eal)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, 'w') as f:
                f.write(text)

    def command(self):
        svc = unitfile.read_unit(UNIT).get('Service', {})
        env = {}
        for spec in svc.get('EnvironmentFile', []):
            optional = spec.startswith('-')
            path = unitfile.specifiers(spec.lstrip('-'), self.name)
            if optional and not os.path.exists(path):
                continue
            env.update(unitfile.read_environment_file(path))
        starts = svc.get('ExecStart', [])
        if not check(len(starts) == 1, 'the unit has one ExecStart'):
            return None, None, None
        argv = unitfile.exec_argv(starts[0], self.name, env)
        sig = svc.get('KillSignal', ['SIGTERM'])[-1]
        return argv, env, sig

    def start(self, argv, env):
        base = {'PATH': '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
                'LANG': 'C.UTF-8'}
        base.update(env)   # systemd passes the environment file's variables too
        with open(self.log_path, 'w') as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd='/', env=base)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if 'wgdp: ready' in self.log():
                return True
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        return False

    def stop(self, sig):
        self.proc.send_signal(signal.Signals[sig])
        t0 = time.monotonic()
        try:
            rc = self.proc.wait(timeout=STOP_WITHIN)
        except subprocess.TimeoutExpired:
            rc = None
        took = time.monotonic() - t0
        if rc is None:
            self.proc.kill()
            self.proc.wait()
        return rc, took

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for path in self.files + [f'/var/run/wireguard/{self.name}.sock',
                                  f'/var/run/wgdp/{self.name}.json.sock']:
            if os.path.lexists(path):
                os.unlink(path)
        shutil.rmtree(f'/var/run/dpdk/wgdp-{self.name}', ignore_errors=True)


def test_service(svc):
    svc.write_config()
    argv, env, sig = svc.command()
    if argv is None:
        return
    check(argv[0] == '/usr/sbin/wgdp', f'ExecStart runs /usr/sbin/wgdp (found {argv[0]})')
    r = run(['dpkg', '-S', argv[0]])
    check(r.returncode == 0 and r.stdout.startswith('wgdp:'), f'{argv[0]} is the package\'s')
    print('  running: ' + ' '.join(argv), flush=True)
    if not check(svc.start(argv, env), f'the service for {svc.name} starts and is ready',
                 svc.log()):
        return
    n = svc.name
    r = run(['wg', 'show', n], timeout=10)
    check(r.returncode == 0 and f'interface: {n}' in r.stdout and svc.public in r.stdout
          and 'listening port: 51820' in r.stdout and svc.peer in r.stdout,
          f'wg show {n}: the interface, its public key, port and peer', r.stdout + r.stderr)
    r = run(['wg', 'show', 'interfaces'], timeout=10)
    check(n in r.stdout.split(), f'wg show interfaces lists {n}')
    for path in (f'/var/run/wireguard/{n}.sock', f'/var/run/wgdp/{n}.json.sock'):
        st = os.stat(path) if os.path.exists(path) else None
        check(st is not None and stat.S_ISSOCK(st.st_mode) and
              stat.S_IMODE(st.st_mode) == 0o600, f'{path} is a root-only socket')
    r = run(['wgdpctl', '-i', n, '--raw', 'GetDeviceInfo'], timeout=10)
    dev = json.loads(r.stdout).get('device', {}) if r.returncode == 0 else {}
    check(dev.get('name') == n and dev.get('public_key') == svc.public and
          dev.get('num_peers') == 1, f'JSON-RPC GetDeviceInfo on {n}', r.stdout + r.stderr)
    r = run(['wg', 'set', n, 'peer', svc.peer2, 'allowed-ips', '10.200.0.3/32'], timeout=10)
    check(r.returncode == 0, 'wg set adds a peer', r.stderr)
    r = run(['wgdpctl', '-i', n, '--raw', 'ListPeers'], timeout=10)
    peers = json.loads(r.stdout) if r.returncode == 0 else {}
    check(peers.get('total') == 2 and
          svc.peer2 in [p.get('public_key') for p in peers.get('peers', [])],
          'JSON-RPC ListPeers sees the peer wg set added', r.stdout + r.stderr)

    r = run(['wg', 'showconf', n], timeout=10)
    dump = os.path.join(svc.work, f'{n}.wg')
    with os.fdopen(os.open(dump, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 'w') as f:
        f.write(r.stdout)
    check(r.returncode == 0 and svc.peer2 in r.stdout, 'wg showconf dumps both peers',
          r.stderr)
    if not stop_checks(svc, sig):
        return

    # Upgrading without losing peers (docs/install.md): the peer added at run time is
    # gone after a restart, and `wg syncconf` from the dump brings it back.
    if not check(svc.start(argv, env), 'the service starts again', svc.log()):
        return
    r = run(['wg', 'show', n, 'peers'], timeout=10)
    check(r.returncode == 0 and r.stdout.split() == [svc.peer],
          'after the restart: the peers of the file only', r.stdout + r.stderr)
    r = run(['wg', 'syncconf', n, dump], timeout=10)
    check(r.returncode == 0, 'wg syncconf from the dump', r.stderr)
    r = run(['wg', 'show', n, 'peers'], timeout=10)
    check(r.returncode == 0 and sorted(r.stdout.split()) == sorted([svc.peer, svc.peer2]),
          'after wg syncconf: both peers again', r.stdout + r.stderr)
    stop_checks(svc, sig)


def stop_checks(svc, sig):
    n = svc.name
    rc, took = svc.stop(sig)
    ok = check(rc is not None, f'{sig} stops the gateway within {STOP_WITHIN:.0f} s '
               f'(took {took:.2f} s)', svc.log()[-2000:])
    ok &= check(rc == 0, f'the gateway exits with status 0 (found {rc})', svc.log()[-2000:])
    ok &= check('wgdp: stopped' in svc.log(), 'the gateway says it stopped cleanly')
    ok &= check(not os.path.exists(f'/var/run/wireguard/{n}.sock') and
                not os.path.exists(f'/var/run/wgdp/{n}.json.sock'), 'its sockets are removed')
    return ok


def test_deb(deb, version):
    r = run(['dpkg-deb', '-c', deb])
    listing = {}
    for line in r.stdout.splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6:
            listing[parts[5].lstrip('.').split(' -> ')[0].rstrip('/') or '/'] = parts[0]
    for path in ('/usr/sbin/wgdp', '/usr/bin/wgdpctl', '/usr/bin/wgdp-bench',
                 '/usr/bin/wgdp-gen', UNIT,
                 '/usr/share/man/man8/wgdp.8.gz', '/usr/share/man/man8/wgdpctl.8.gz',
                 '/usr/share/man/man5/wgdp.conf.5.gz',
                 '/usr/share/doc/wgdp/examples/example.conf',
                 '/usr/share/doc/wgdp/examples/one-arm.conf',
                 '/usr/share/doc/wgdp/examples/example.eal',
                 '/usr/share/doc/wgdp/copyright', '/usr/share/doc/wgdp/changelog.gz'):
        check(path in listing, f'the package holds {path}')
    check(listing.get(ETC) == 'drwx------', f'{ETC} is root-only (found {listing.get(ETC)})')
    depends = run(['dpkg-deb', '-f', deb, 'Depends']).stdout
    check(all(lib in depends for lib in ('librte-eal23', 'libsodium23', 'libipsec-mb1',
                                         'libconfig9', 'libjansson4', 'libb2-1')),
          'Depends lists the libraries the programs link (${shlibs:Depends})', depends)
    check(run(['dpkg-deb', '-f', deb, 'Version']).stdout.strip() == version,
          f'the package version is {version}')
    return [p for p in listing if p != '/']


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    src = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        print('skipped: needs root (apt-get install, /etc/wgdp, the gateway)')
        return 77
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        print('FAILED: missing ' + ' '.join(missing) + ' (scripts/install-deps.sh installs them)')
        return 1
    state = pkg_state()
    if state != 'not-installed':
        print(f'skipped: a wgdp package is already on this machine ({state}); the test '
              'would replace and purge it')
        return 77

    work = tempfile.mkdtemp(prefix='wgdp-pkg.')
    os.chmod(work, 0o755)   # apt reads the .deb as its own user
    installed, svc, existed = False, None, {}
    try:
        status_before = git_status(src)
        tree = os.path.join(work, 'wgdp')
        copy_tree(src, tree)
        env = dict(os.environ)
        if 'parallel=' not in env.get('DEB_BUILD_OPTIONS', ''):
            env['DEB_BUILD_OPTIONS'] = (env.get('DEB_BUILD_OPTIONS', '') +
                                        f' parallel={os.cpu_count() or 1}').strip()
        print('  dpkg-buildpackage -us -uc -b (in a copy of the tree) ...', flush=True)
        t0 = time.monotonic()
        with open(os.path.join(work, 'build.log'), 'w') as log:
            r = subprocess.run(['dpkg-buildpackage', '-us', '-uc', '-b'], cwd=tree, env=env,
                               stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                               timeout=1500)
        with open(os.path.join(work, 'build.log'), encoding='utf-8', errors='replace') as f:
            build_log = f.read()
        if not check(r.returncode == 0, f'dpkg-buildpackage ({time.monotonic() - t0:.0f} s)',
                     build_log[-6000:]):
            return 1
        warnings = [ln for ln in build_log.splitlines()
                    if re.match(r'\S+:\d+:\d+: warning:', ln)]
        check(not warnings, 'the package builds without a compiler warning',
              '\n'.join(warnings[:20]))
        check(git_status(src) == status_before, 'the source tree is unchanged by the build')

        version = run(['dpkg-parsechangelog', '-l', os.path.join(tree, 'debian/changelog'),
                       '-S', 'Version']).stdout.strip()
        check(version == meson_version(src),
              f"debian/changelog's version {version} is meson's {meson_version(src)}")
        deb = os.path.join(work, f'wgdp_{version}_amd64.deb')
        if not check(os.path.isfile(deb), f'built {os.path.basename(deb)}'):
            return 1
        paths = test_deb(deb, version)
        existed = {p: os.path.lexists(p) for p in paths}

        r = run(['apt-get', 'install', '-y', '-q', '-o', 'DPkg::Lock::Timeout=300', deb],
                env=dict(os.environ, DEBIAN_FRONTEND='noninteractive'), timeout=900)
        installed = pkg_state() != 'not-installed'
        if not check(r.returncode == 0 and pkg_state() == 'installed',
                     'apt-get install ./' + os.path.basename(deb), r.stdout + r.stderr):
            return 1
        r = run(['systemd-analyze', 'verify', UNIT])
        check(r.returncode == 0 and not (r.stdout + r.stderr).strip(),
              f'systemd-analyze verify {UNIT}', r.stdout + r.stderr)
        r = run(['man', '-w', 'wgdp.conf'])
        check(r.returncode == 0, 'man finds wgdp.conf(5)')

        svc = Service(work)
        test_service(svc)
    finally:
        if svc:
            svc.cleanup()
        if installed:
            r = run(['apt-get', 'purge', '-y', '-q', '-o', 'DPkg::Lock::Timeout=300', 'wgdp'],
                    env=dict(os.environ, DEBIAN_FRONTEND='noninteractive'), timeout=600)
            check(r.returncode == 0 and pkg_state() == 'not-installed',
                  'apt-get purge wgdp', r.stdout + r.stderr)
            left = [p for p, was in existed.items() if not was and os.path.lexists(p)]
            check(not left, 'the purge leaves nothing the package installed', '\n'.join(left))
        shutil.rmtree(work, ignore_errors=True)
    print(f'{len(failures)} failed' if failures else 'all passed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
