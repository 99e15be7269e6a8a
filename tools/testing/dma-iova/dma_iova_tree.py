#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Assemble, refresh and export the DMA IOVA patch series.

The repository is an overlay on Debian's linux-source-6.12:

  - files new to the kernel sit at their kernel path in the repository,
    and patches/new-files names the patch of the series that adds each;
  - edits to upstream files are the quilt series patches/series;
  - MAINTAINERS holds only this series' entry.

"tree" builds build/linux, a git work tree whose first commit is the
pristine base and whose next commits are the patches of the series, each
carrying its new files and the MAINTAINERS lines for them.  "refresh"
turns the commits of that tree back into the overlay, "series" exports
them with git format-patch and checks that they apply with git am.
"""

import argparse
import difflib
import fnmatch
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
HARNESS = os.path.join(ROOT, 'tools', 'testing', 'dma-iova')
PATCHES = os.path.join(ROOT, 'patches')
SERIES = os.path.join(PATCHES, 'series')
NEW_FILES = os.path.join(PATCHES, 'new-files')
COVER = os.path.join(PATCHES, 'cover-letter')
MAINT = os.path.join(ROOT, 'MAINTAINERS')
BUILD = os.path.join(ROOT, 'build')
TREE = os.path.join(BUILD, 'linux')
BASE_VERSION_FILE = os.path.join(HARNESS, 'base-version')

BASE_REF = 'refs/tags/dma-iova-base'
GEN_REF = 'refs/dma-iova/generated'
BRANCH = 'dma-iova'
# Fixed dates keep the generated commits, and so base-commit:, stable.
FIXED_DATE = '2026-01-01T00:00:00+0000'
TOOL_IDENT = ('dma-iova tree', 'dma-iova-tree@localhost')


def die(msg):
    print(f'dma_iova_tree: {msg}', file=sys.stderr)
    sys.exit(1)


def git(*args, cwd=TREE, env=None, input=None, check=True):
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    r = subprocess.run(['git', *args], cwd=cwd, env=full_env, input=input,
                       capture_output=True, text=True)
    if check and r.returncode:
        die(f"git {' '.join(args)} failed:\n{r.stderr}")
    return r.stdout


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [l.strip() for l in f
                if l.strip() and not l.lstrip().startswith('#')]


def base_version():
    lines = read_lines(BASE_VERSION_FILE)
    if len(lines) != 1:
        die(f'{BASE_VERSION_FILE} must hold one version line')
    return lines[0]


def series():
    return [l.split()[0] for l in read_lines(SERIES)]


def new_files():
    """Map patch name -> list of new files it adds, in file order."""
    owners = {}
    for l in read_lines(NEW_FILES):
        patch, path = l.split()
        owners.setdefault(patch, []).append(path)
    return owners


# MAINTAINERS ----------------------------------------------------------

def maint_entry():
    if not os.path.exists(MAINT):
        return []
    with open(MAINT) as f:
        lines = [l.rstrip('\n') for l in f]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def pattern_matches(pattern, files):
    if pattern.endswith('/'):
        return any(f.startswith(pattern) for f in files)
    if any(c in pattern for c in '*?['):
        return any(fnmatch.fnmatch(f, pattern) for f in files)
    return pattern in files


def maint_merge(upstream, entry, present):
    """Insert @entry into @upstream at its sorted place.

    F: and X: lines are kept only for files in @present, so that each
    patch adds the MAINTAINERS lines of the files it adds.
    """
    if not entry:
        return upstream
    kept = [l for l in entry
            if not re.match(r'^[FX]:\t', l) or pattern_matches(l[3:], present)]
    if not any(l.startswith('F:\t') for l in kept):
        return upstream
    lines = upstream.split('\n')
    title = entry[0]
    # Sections start after the "Maintainers List" header and are separated
    # by blank lines; the first line of each is its title.
    start = next(i for i, l in enumerate(lines) if l.startswith('3C59X'))
    titles = [i for i in range(start, len(lines))
              if not lines[i - 1] and re.match(r'^[A-Z0-9]', lines[i])]
    # The list is sorted but for a few strays: go in after the last
    # section that sorts before the entry.
    before = [i for i in titles if lines[i] < title]
    pos = next((i for i in titles if before and i > before[-1]), None)
    if pos is None:
        die('no place for the MAINTAINERS entry')
    return '\n'.join(lines[:pos] + kept + [''] + lines[pos:])


def maint_strip(text, title):
    """@text without the section titled @title."""
    lines = text.split('\n')
    if title not in lines:
        return text
    i = lines.index(title)
    j = i
    while j < len(lines) and lines[j]:
        j += 1
    return '\n'.join(lines[:i] + lines[j + 1:])


def maint_diff(old, new):
    """A git-style diff of MAINTAINERS from @old to @new, or ''."""
    if old == new:
        return ''
    hunks = difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                 'a/MAINTAINERS', 'b/MAINTAINERS')
    return 'diff --git a/MAINTAINERS b/MAINTAINERS\n' + ''.join(hunks)


def maint_extract(text, title):
    lines = text.split('\n')
    try:
        i = lines.index(title)
    except ValueError:
        return []
    out = []
    for l in lines[i:]:
        if not l:
            break
        out.append(l)
    return out


# Base -----------------------------------------------------------------

def ensure_base():
    version = base_version()
    tarball = '/usr/src/linux-source-6.12.tar.xz'
    have = subprocess.run(['dpkg-query', '-W', '-f=${Version}',
                           'linux-source-6.12'], capture_output=True,
                          text=True).stdout.strip()
    if have != version:
        die(f'linux-source-6.12 {version} is needed, {have or "none"} is '
            f'installed: run tools/testing/dma-iova/deps.sh')
    if os.path.isdir(os.path.join(TREE, '.git')) and \
       git('rev-parse', '-q', '--verify', BASE_REF, check=False).strip():
        msg = git('log', '-1', '--format=%s', BASE_REF)
        if version not in msg:
            die(f'{TREE} holds another base ({msg.strip()}); remove it')
        return
    if os.path.exists(TREE):
        shutil.rmtree(TREE)
    os.makedirs(TREE)
    print(f'  TREE    unpacking linux-source-6.12 {version}')
    subprocess.run(['tar', '-xJf', tarball, '-C', TREE,
                    '--strip-components=1'], check=True)
    # Debian's tarball ignores everything at the top level of the tree in
    # its .gitignore, so that git would not see a single new file: drop
    # that packaging section and keep the kernel's own rules.
    gi = os.path.join(TREE, '.gitignore')
    with open(gi) as f:
        text = f.read()
    text = re.sub(r'\n#\n# Debian packaging:.*?!/debian/\n', '\n', text,
                  flags=re.S)
    with open(gi, 'w') as f:
        f.write(text)
    git('init', '-q', '-b', BRANCH)
    git('config', 'core.autocrlf', 'false')
    git('config', 'gc.auto', '0')
    git('add', '-A', '-f', '.')
    env = commit_env(TOOL_IDENT)
    git('commit', '-q', '-m',
        f'Linux 6.12 base (Debian linux-source-6.12 {version})\n\n'
        'The tarball as Debian ships it, but for the Debian packaging\n'
        'section of .gitignore, which ignores every new file.', env=env)
    git('update-ref', BASE_REF, 'HEAD')
    git('update-ref', GEN_REF, 'HEAD')


def commit_env(author):
    return {
        'GIT_AUTHOR_NAME': author[0], 'GIT_AUTHOR_EMAIL': author[1],
        'GIT_AUTHOR_DATE': FIXED_DATE,
        'GIT_COMMITTER_NAME': TOOL_IDENT[0],
        'GIT_COMMITTER_EMAIL': TOOL_IDENT[1],
        'GIT_COMMITTER_DATE': FIXED_DATE,
    }


# tree -----------------------------------------------------------------

def inputs_digest():
    h = hashlib.sha256()
    paths = [os.path.abspath(__file__), BASE_VERSION_FILE, SERIES, NEW_FILES,
             MAINT, COVER]
    paths += [os.path.join(PATCHES, p) for p in series()]
    for files in new_files().values():
        paths += [os.path.join(ROOT, f) for f in files]
    for p in paths:
        h.update(p.encode())
        if os.path.exists(p):
            with open(p, 'rb') as f:
                h.update(f.read())
            h.update(b'x' if os.access(p, os.X_OK) else b'-')
    return h.hexdigest()


def parse_patch(path):
    """Return (author, subject, body, diff) of a patch file."""
    with tempfile.TemporaryDirectory() as tmp:
        msg, diff = os.path.join(tmp, 'msg'), os.path.join(tmp, 'diff')
        with open(path) as f:
            info = git('mailinfo', '-k', msg, diff, cwd=ROOT, input=f.read())
        fields = dict(l.split(': ', 1) for l in info.splitlines() if ': ' in l)
        with open(msg) as f:
            body = f.read()
        with open(diff) as f:
            patch = f.read()
    if 'Author' not in fields or 'Subject' not in fields:
        die(f'{path}: needs From: and Subject: headers')
    subject = re.sub(r'^\[PATCH[^]]*\]\s*', '', fields['Subject'])
    return (fields['Author'], fields['Email']), subject, body, patch


def patch_paths(path):
    """The files a patch changes."""
    out = git('apply', '--numstat', '--allow-empty', path, cwd=ROOT)
    return [l.split('\t', 2)[2] for l in out.splitlines() if l.strip()]


def introduced_contents(names, owners):
    """Content of each new file as the patch that adds it adds it.

    The repository holds new files as they are at the end of the series;
    later patches that change one carry their hunks for it.  Undo those
    hunks, newest first, to get the file as first added.
    """
    touches = {n: set(patch_paths(os.path.join(PATCHES, n))) for n in names}
    contents = {}
    for i, name in enumerate(names):
        for f in owners.get(name, []):
            src = os.path.join(ROOT, f)
            if not os.path.exists(src):
                die(f'{name} adds {f}, which is missing from the repository')
            with open(src, 'rb') as fh:
                data = fh.read()
            later = [n for n in names[i + 1:] if f in touches[n]]
            if later:
                with tempfile.TemporaryDirectory() as tmp:
                    dst = os.path.join(tmp, f)
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    with open(dst, 'wb') as fh:
                        fh.write(data)
                    for n in reversed(later):
                        r = subprocess.run(['git', 'apply', '-R',
                                            f'--include={f}',
                                            os.path.join(PATCHES, n)],
                                           cwd=tmp, capture_output=True,
                                           text=True)
                        if r.returncode:
                            die(f'cannot undo {n} on {f}:\n{r.stderr}')
                    with open(dst, 'rb') as fh:
                        data = fh.read()
            contents[f] = data
    return contents


def build_commits():
    """Create the series commits without touching the work tree."""
    owners = new_files()
    names = series()
    for patch in owners:
        if patch not in names:
            die(f'patches/new-files names {patch}, which is not in the series')
    entry = maint_entry()
    base = git('rev-parse', BASE_REF).strip()
    upstream_files = set(git('ls-tree', '-r', '--name-only', base).split('\n'))
    contents = introduced_contents(names, owners)
    present = set()
    index = os.path.join(TREE, '.git', 'dma-iova-index')
    env = {'GIT_INDEX_FILE': index}
    git('read-tree', base, env=env)
    parent = base
    for name in names:
        path = os.path.join(PATCHES, name)
        if not os.path.exists(path):
            die(f'patches/series names {name}, which does not exist')
        author, subject, body, diff = parse_patch(path)
        # The files the patch adds, then its edits.
        for f in owners.get(name, []):
            src = os.path.join(ROOT, f)
            if f in upstream_files:
                die(f'{f} exists upstream: edit it with a patch instead')
            r = subprocess.run(['git', 'hash-object', '-w', '--stdin'],
                               cwd=TREE, input=contents[f],
                               capture_output=True, check=True)
            blob = r.stdout.decode().strip()
            mode = '100755' if os.access(src, os.X_OK) else '100644'
            git('update-index', '--add', '--cacheinfo',
                f'{mode},{blob},{f}', env=env)
            present.add(f)
        if diff.strip():
            r = subprocess.run(['git', 'apply', '--cached', '--whitespace=nowarn',
                                path], cwd=TREE, env={**os.environ, **env},
                               capture_output=True, text=True)
            if r.returncode:
                die(f'{name} does not apply:\n{r.stderr}')
        # Patches may edit other sections; the series' own entry is
        # generated, with the F: lines of the files present so far.
        current = git('cat-file', 'blob', ':MAINTAINERS', env=env)
        if entry:
            current = maint_strip(current, entry[0])
        merged = maint_merge(current, entry, present)
        blob = git('hash-object', '-w', '--stdin', input=merged).strip()
        git('update-index', '--cacheinfo', f'100644,{blob},MAINTAINERS',
            env=env)
        tree = git('write-tree', env=env).strip()
        message = f'{subject}\n\n{body}'
        parent = git('commit-tree', tree, '-p', parent, '-F', '-',
                     input=message, env=commit_env(author)).strip()
    os.unlink(index)
    return parent


def cmd_tree(args):
    ensure_base()
    digest = inputs_digest()
    stamp = os.path.join(TREE, '.git', 'dma-iova-inputs')
    head = git('rev-parse', 'HEAD').strip()
    generated = git('rev-parse', GEN_REF).strip()
    dirty = git('status', '--porcelain', '--untracked-files=no').strip()
    if head == generated and not dirty and os.path.exists(stamp) and \
       open(stamp).read() == digest:
        print('  TREE    build/linux is up to date')
        return
    if (head != generated or dirty) and not args.force:
        die('build/linux has commits or edits that are not in the overlay:\n'
            '  run "make refresh" to keep them, or "make tree FORCE=1" to '
            'drop them')
    commit = build_commits()
    git('checkout', '-q', '-f', '-B', BRANCH, commit)
    git('update-ref', GEN_REF, commit)
    with open(stamp, 'w') as f:
        f.write(digest)
    n = len(series())
    print(f'  TREE    build/linux: base + {n} patch{"es" if n != 1 else ""}')


# refresh --------------------------------------------------------------

def slug(subject):
    s = re.sub(r'[^A-Za-z0-9]+', '-', subject).strip('-').lower()
    return s[:60].rstrip('-') + '.patch'


def cmd_refresh(args):
    ensure_base()
    base = git('rev-parse', BASE_REF).strip()
    if git('status', '--porcelain', '--untracked-files=no').strip():
        die('build/linux has uncommitted edits: commit them into the patch '
            'they belong to first')
    commits = git('rev-list', '--reverse', '--topo-order',
                  f'{base}..HEAD').split()
    upstream_files = set(git('ls-tree', '-r', '--name-only', base).split('\n'))
    entry = maint_entry()
    names, owners, owner_of = [], {}, {}
    patches = {}
    for c in commits:
        if len(git('rev-list', '--parents', '-n1', c).split()) != 2:
            die(f'{c[:12]} is a merge: the series must be linear')
        subject = git('log', '-1', '--format=%s', c).strip()
        name = slug(subject)
        if name in patches:
            die(f'two commits are named {name}: subjects must be unique')
        upstream_edit = []
        maint_edit = False
        for line in git('diff-tree', '-r', '--no-commit-id', '--name-status',
                        c).splitlines():
            status, path = line.split('\t', 1)
            if path == 'MAINTAINERS':
                maint_edit = True
                continue
            if path in upstream_files or (status == 'M' and
                                          path in owner_of):
                upstream_edit.append(path)
            elif status == 'A':
                owners.setdefault(name, []).append(path)
                owner_of[path] = name
            else:
                die(f'{subject}: {status} {path} is not supported: a new '
                    'file is added by one commit and never removed')
        author = git('log', '-1', '--format=%an <%ae>', c).strip()
        body = git('log', '-1', '--format=%b', c).rstrip() + '\n'
        text = f'From: {author}\nSubject: [PATCH] {subject}\n\n{body}'
        diff = ''
        if upstream_edit:
            diff = git('diff', '--no-color', '--no-ext-diff', f'{c}^', c,
                       '--', *upstream_edit)
        if maint_edit:
            old = git('show', f'{c}^:MAINTAINERS')
            new = git('show', f'{c}:MAINTAINERS')
            if entry:
                old = maint_strip(old, entry[0])
                new = maint_strip(new, entry[0])
            diff = maint_diff(old, new) + diff
        if diff:
            text += '---\n' + diff
        patches[name] = text
        names.append(name)
    # Overlay: new files as they are at HEAD, the MAINTAINERS entry,
    # the series and who adds what.
    for name, files in owners.items():
        for f in files:
            dst = os.path.join(ROOT, f)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, 'wb') as out:
                out.write(subprocess.run(['git', 'show', f'HEAD:{f}'],
                                         cwd=TREE, capture_output=True,
                                         check=True).stdout)
            mode = git('ls-tree', 'HEAD', f).split()[0]
            os.chmod(dst, 0o755 if mode == '100755' else 0o644)
    if entry:
        head_entry = maint_extract(git('show', 'HEAD:MAINTAINERS'), entry[0])
        if head_entry:
            with open(MAINT, 'w') as f:
                f.write('\n'.join(head_entry) + '\n')
    for old in set(series()) - set(names):
        os.unlink(os.path.join(PATCHES, old))
    for name in names:
        with open(os.path.join(PATCHES, name), 'w') as f:
            f.write(patches[name])
    with open(SERIES, 'w') as f:
        f.write(''.join(n + '\n' for n in names))
    with open(NEW_FILES, 'w') as f:
        f.write('# Files new to the kernel, at their kernel path in this '
                'repository,\n# and the patch of patches/series that adds '
                'each.\n')
        for name in names:
            for path in owners.get(name, []):
                f.write(f'{name}\t{path}\n')
    # The overlay must give back the same tree.
    commit = build_commits()
    if git('rev-parse', f'{commit}^{{tree}}') != \
       git('rev-parse', 'HEAD^{tree}'):
        die('the refreshed overlay does not give back HEAD\'s tree: '
            'check the MAINTAINERS entry')
    git('reset', '-q', '--soft', commit)
    git('update-ref', GEN_REF, commit)
    with open(os.path.join(TREE, '.git', 'dma-iova-inputs'), 'w') as f:
        f.write(inputs_digest())
    print(f'  REFRESH {len(names)} patches, '
          f'{sum(len(v) for v in owners.values())} new files')


# series ---------------------------------------------------------------

def cover_letter():
    with open(COVER) as f:
        text = f.read()
    head, _, blurb = text.partition('\n\n')
    fields = dict(l.split(': ', 1) for l in head.splitlines())
    return fields['Subject'], int(fields.get('Version', '1')), blurb.strip()


def cmd_series(args):
    cmd_tree(argparse.Namespace(force=False))
    out = os.path.join(ROOT, 'out', 'series')
    if os.path.exists(out):
        shutil.rmtree(out)
    base = git('rev-parse', BASE_REF).strip()
    subject, version, blurb = cover_letter()
    opts = ['format-patch', '-q', '--cover-letter', f'--base={base}',
            '-o', out, f'{base}..HEAD']
    if version > 1:
        opts.insert(1, f'-v{version}')
    git(*opts)
    files = sorted(os.listdir(out))
    cover = os.path.join(out, files[0])
    with open(cover) as f:
        text = f.read()
    text = text.replace('*** SUBJECT HERE ***', subject)
    text = text.replace('*** BLURB HERE ***', blurb)
    with open(cover, 'w') as f:
        f.write(text)
    # Apply the mails to a pristine base and compare.
    check = os.path.join(BUILD, 'am-check')
    git('worktree', 'remove', '--force', check, check=False)
    git('worktree', 'prune')
    git('worktree', 'add', '-q', '--detach', check, base)
    mails = [os.path.join(out, f) for f in files[1:]]
    env = commit_env(TOOL_IDENT)
    if mails:
        git('am', '-q', '--whitespace=error-all', *mails, cwd=check, env=env)
    ok = git('rev-parse', 'HEAD^{tree}', cwd=check) == \
        git('rev-parse', 'HEAD^{tree}')
    git('worktree', 'remove', '--force', check)
    if not ok:
        die('the exported series does not give back build/linux')
    print(f'  SERIES  out/series: cover letter + {len(mails)} patches, '
          'git am onto the base gives build/linux')


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest='cmd', required=True)
    t = sub.add_parser('tree', help='assemble build/linux')
    t.add_argument('--force', action='store_true',
                   help='drop commits and edits not in the overlay')
    sub.add_parser('refresh', help='write build/linux back to the overlay')
    sub.add_parser('series', help='export out/series and check it')
    sub.add_parser('base', help='print the base commit')
    args = p.parse_args()
    if args.cmd == 'tree':
        cmd_tree(args)
    elif args.cmd == 'refresh':
        cmd_refresh(args)
    elif args.cmd == 'series':
        cmd_series(args)
    elif args.cmd == 'base':
        print(git('rev-parse', BASE_REF).strip())


if __name__ == '__main__':
    main()
