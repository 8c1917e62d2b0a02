#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`meson install --destdir` of a build puts exactly the expected files in place.

    destdir.py SOURCE_ROOT BUILD_ROOT

Installs the build (already built: --no-rebuild) into a temporary directory, reads the
build's own directories (prefix, bindir, sbindir, ...) from `meson introspect`, and checks:
the installed files are exactly the expected ones (nothing missing, nothing extra); the
programs are executable, wgdpctl runs; SYSCONFDIR/wgdp is an empty root-only directory;
the unit's ExecStart runs PREFIX/SBINDIR/wgdp on SYSCONFDIR/wgdp/%i.conf with the EAL
options of SYSCONFDIR/wgdp/%i.eal beside it and the instance as the interface's name; the
example EAL file defines WGDP_EAL; each man page renders without a warning and names
itself. Needs no root. Exit 0 pass, 1 fail.
"""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import unitfile  # noqa: E402

failures = []


def check(ok, what):
    print(('ok     ' if ok else 'FAILED ') + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


def options(build):
    out = subprocess.run(['meson', 'introspect', '--buildoptions', build], check=True,
                         capture_output=True, text=True).stdout
    return {o['name']: o['value'] for o in json.loads(out)}


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, build = sys.argv[1], sys.argv[2]
    opt = options(build)
    prefix = opt['prefix']

    def d(name):
        return os.path.join(prefix, opt[name]).lstrip('/')

    unitdir = opt['systemdunitdir'] or os.path.join(prefix, 'lib/systemd/system')
    doc = os.path.join(d('datadir'), 'doc', 'wgdp')
    etc = os.path.join(d('sysconfdir'), 'wgdp')
    expected = {
        os.path.join(d('sbindir'), 'wgdp'),
        os.path.join(d('bindir'), 'wgdpctl'),
        os.path.join(d('bindir'), 'wgdp-bench'),
        os.path.join(d('bindir'), 'wgdp-bench-hs'),
        os.path.join(d('bindir'), 'wgdp-gen'),
        os.path.join(unitdir.lstrip('/'), 'wgdp@.service'),
        os.path.join(d('mandir'), 'man8', 'wgdp.8'),
        os.path.join(d('mandir'), 'man8', 'wgdpctl.8'),
        os.path.join(d('mandir'), 'man5', 'wgdp.conf.5'),
        os.path.join(doc, 'examples', 'example.conf'),
        os.path.join(doc, 'examples', 'one-arm.conf'),
        os.path.join(doc, 'examples', 'example.eal'),
        etc + '/',
    } | {os.path.join(doc, f) for f in ('README.md', 'install.md', 'configuration.md',
                                        'uapi.md', 'control-api.md', 'operations.md', 'design.md',
                                        'performance.md', 'benchmarking.md', 'obfuscation.md',
                                        'nat.md')}

    dest = tempfile.mkdtemp(prefix='wgdp-destdir.')
    try:
        r = subprocess.run(['meson', 'install', '-C', build, '--destdir', dest,
                            '--no-rebuild', '--quiet'], capture_output=True, text=True)
        if not check(r.returncode == 0, 'meson install --destdir'):
            print(r.stdout + r.stderr)
            return 1
        found = set()
        for root, dirs, files in os.walk(dest):
            rel = os.path.relpath(root, dest)
            for f in files:
                found.add(os.path.normpath(os.path.join(rel, f)))
            if not dirs and not files:
                found.add(rel + '/')   # an empty directory is installed on purpose
        for f in sorted(expected - found):
            check(False, f'installed: {f}')
        for f in sorted(found - expected):
            check(False, f'not expected, but installed: {f}')
        check(expected == found, f'the {len(expected)} expected files, and no others')

        for prog in (os.path.join(d('sbindir'), 'wgdp'), os.path.join(d('bindir'), 'wgdpctl'),
                     os.path.join(d('bindir'), 'wgdp-bench'),
                     os.path.join(d('bindir'), 'wgdp-bench-hs'),
                     os.path.join(d('bindir'), 'wgdp-gen')):
            p = os.path.join(dest, prog)
            check(os.path.isfile(p) and os.access(p, os.X_OK), f'{prog} is executable')
        r = subprocess.run([os.path.join(dest, d('bindir'), 'wgdpctl'), '--help'],
                           capture_output=True, text=True)
        check(r.returncode == 0 and 'GetDeviceInfo' in r.stdout, 'the installed wgdpctl runs')

        etc_path = os.path.join(dest, etc)
        if check(os.path.isdir(etc_path), f'{etc} is a directory'):
            mode = stat.S_IMODE(os.stat(etc_path).st_mode)
            check(mode == 0o700, f'{etc} is root-only (0700, found {mode:o})')
            check(not os.listdir(etc_path), f'{etc} is empty')

        unit_path = os.path.join(dest, unitdir.lstrip('/'), 'wgdp@.service')
        if os.path.isfile(unit_path):
            check_unit(unit_path, prefix, opt)

        eal = os.path.join(dest, doc, 'examples', 'example.eal')
        if os.path.isfile(eal):
            env = unitfile.read_environment_file(eal)
            check(env.get('WGDP_EAL', '').startswith('-l '),
                  'examples/example.eal sets WGDP_EAL (lcores first)')

        for page in ('man8/wgdp.8', 'man8/wgdpctl.8', 'man5/wgdp.conf.5'):
            p = os.path.join(dest, d('mandir'), page)
            if os.path.isfile(p):
                check_man(p, os.path.basename(page))
    finally:
        shutil.rmtree(dest, ignore_errors=True)
    print(f'{len(failures)} failed' if failures else 'all passed')
    return 1 if failures else 0


def check_unit(path, prefix, opt):
    u = unitfile.read_unit(path)
    svc = u.get('Service', {})
    etc = os.path.join(prefix, opt['sysconfdir'], 'wgdp')
    exec_start = svc.get('ExecStart', [])
    if not check(len(exec_start) == 1, 'the unit has one ExecStart'):
        return
    env_files = svc.get('EnvironmentFile', [])
    check(env_files == [f'{etc}/%i.eal'],
          f'the EAL options come from {etc}/NAME.eal (found {env_files})')
    argv = unitfile.exec_argv(exec_start[0], 'edge1',
                              {'WGDP_EAL': '-l 0 --no-huge', 'WGDP_ARGS': '--max-peers 9'})
    want = os.path.join(prefix, opt['sbindir'], 'wgdp')
    check(argv[0] == want, f'ExecStart runs {want} (found {argv[0]})')
    if '--' in argv:
        eal, own = argv[1:argv.index('--')], argv[argv.index('--') + 1:]
    else:
        eal, own = argv[1:], []
    check(eal[:1] == ['--file-prefix=wgdp-edge1'],
          'each instance has its own EAL file prefix, first (WGDP_EAL may set another)')
    check(eal[1:] == ['-l', '0', '--no-huge'], 'the words of WGDP_EAL are the EAL options')
    check(own[:4] == ['--name', 'edge1', '-c', f'{etc}/edge1.conf'],
          f'wgdp runs as interface NAME on {etc}/NAME.conf (found {own})')
    check(own[-2:] == ['--max-peers', '9'], "the words of WGDP_ARGS are wgdp's own options")
    check(svc.get('Restart') == ['on-failure'], 'Restart=on-failure')
    check(svc.get('KillSignal', ['SIGTERM']) == ['SIGTERM'], 'stopped by SIGTERM')


def check_man(path, name):
    env = dict(os.environ, MANWIDTH='80', LC_ALL='C.UTF-8', MANROFFSEQ='')
    r = subprocess.run(['man', '--warnings', '-l', path], capture_output=True, text=True,
                       env=env)
    title = name.rsplit('.', 1)[0]
    check(r.returncode == 0 and not r.stderr.strip(),
          f'man {name} renders without warnings{": " + r.stderr.strip() if r.stderr else ""}')
    check('NAME' in r.stdout and f'{title} - ' in r.stdout, f'man {name} names {title}')


if __name__ == '__main__':
    sys.exit(main())
