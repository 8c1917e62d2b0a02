# SPDX-License-Identifier: MIT
"""What the install tests need of systemd's file formats, since no systemd runs here.

- read_unit(path): a unit file's [Section] -> {Key: [values]} (a key may repeat).
- read_environment_file(path): an EnvironmentFile (KEY=VALUE lines, # and ; comments,
  quoted values) as a dict.
- exec_argv(line, instance, env): an ExecStart= line as the argv systemd would run for
  instance NAME of a template: specifiers %i %I %% replaced, "$VAR" as a whole word split
  at whitespace (zero or more words), "${VAR}" replaced in place as one word.
Anything this does not emulate (exec prefixes such as '-' or '+', other specifiers, a
variable systemd would not know) raises Unsupported, so a unit that relies on it makes
the test fail rather than run something else than systemd would.
"""
import re
import shlex


class Unsupported(Exception):
    pass


def read_unit(path):
    sections, cur, pending = {}, None, ''
    with open(path, encoding='utf-8') as f:
        for raw in f:
            line = raw.rstrip('\n')
            if pending:
                line = pending + line
                pending = ''
            stripped = line.strip()
            if not stripped or stripped[0] in '#;':
                continue
            if stripped.endswith('\\'):
                pending = stripped[:-1] + ' '
                continue
            if stripped.startswith('[') and stripped.endswith(']'):
                cur = sections.setdefault(stripped[1:-1], {})
                continue
            if cur is None or '=' not in stripped:
                raise Unsupported(f'{path}: cannot read line {raw!r}')
            key, value = stripped.split('=', 1)
            cur.setdefault(key.strip(), []).append(value.strip())
    return sections


def read_environment_file(path):
    env = {}
    with open(path, encoding='utf-8') as f:
        text = f.read().replace('\\\n', '')
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in '#;':
            continue
        if '=' not in line:
            raise Unsupported(f'{path}: not KEY=VALUE: {line!r}')
        key, value = line.split('=', 1)
        key, value = key.strip(), value.strip()
        if not re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*', key):
            raise Unsupported(f'{path}: bad variable name {key!r}')
        if value[:1] in ('"', "'"):
            words = shlex.split(value)
            if len(words) != 1:
                raise Unsupported(f'{path}: {key}: one quoted value expected')
            value = words[0]
        env[key] = value
    return env


def specifiers(word, instance):
    def sub(m):
        c = m.group(1)
        if c == '%':
            return '%'
        if c in 'iI':
            return instance
        raise Unsupported(f'specifier %{c} in {word!r}')
    return re.sub(r'%(.)', sub, word)


def exec_argv(line, instance, env):
    if line[:1] in '@-:+!':
        raise Unsupported(f'ExecStart prefix {line[0]!r}')
    argv = []
    for word in shlex.split(line):
        word = specifiers(word, instance)
        m = re.fullmatch(r'\$([A-Za-z_][A-Za-z0-9_]*)', word)
        if m:
            argv += env.get(m.group(1), '').split()
            continue

        def braced(b):
            return env.get(b.group(1), '')
        word = re.sub(r'\$\{([A-Za-z_][A-Za-z0-9_]*)\}', braced, word)
        if '$' in word:
            raise Unsupported(f'a variable inside {word!r}')
        argv.append(word)
    return argv
