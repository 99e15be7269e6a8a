#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check the skips of one KUnit run against ./kunit-skips.

Usage: kunit-skips.py RESULTS.json SETUP
Prints each skipped case that kunit-skips does not allow in SETUP and
exits 1 if there is one.  RESULTS.json is what "kunit.py parse --json"
writes.
"""
import fnmatch
import json
import os
import sys


def allowed(setup):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        'kunit-skips')
    globs = []
    with open(path) as f:
        for line in f:
            if line.lstrip().startswith('#'):
                continue
            fields = [x.strip() for x in line.split('|')]
            if len(fields) < 2 or not fields[0]:
                continue
            setups = [s.strip() for s in fields[0].split(',')]
            if '*' in setups or setup in setups:
                globs.append(fields[1])
    return globs


def walk(group, name):
    """The skipped cases of a result group, as suite.case[.param]."""
    for case in group.get('test_cases', []):
        if case['status'] == 'SKIP':
            yield f'{name}.{case["name"]}'
    for sub in group.get('sub_groups', []):
        yield from walk(sub, f'{name}.{sub["name"]}')


def main():
    results, setup = sys.argv[1], sys.argv[2]
    with open(results) as f:
        top = json.load(f)
    globs = allowed(setup)
    bad = []
    for group in top.get('sub_groups', []):
        for case in walk(group, group['name']):
            if not any(fnmatch.fnmatchcase(case, g) for g in globs):
                bad.append(case)
    for case in bad:
        print(f'unexpected skip in {setup}: {case}')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
