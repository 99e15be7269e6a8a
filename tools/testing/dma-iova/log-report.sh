#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the first report of a kernel log that log-errors matches: the
# lines from its first line up to the end of the report (the "end trace"
# marker, a lockdep report's backtrace, or 150 lines), indented.  CI
# keeps only what the run printed, not the logs, so a failing case shows
# what failed this way.  LOG may hold lines the caller does not count
# (SKIP: a regex, e.g. the WARN_ON_ONCE()s the contract cases trip).
#
# Usage: log-report.sh LOG [SKIP]
set -uo pipefail

here=$(dirname "$(readlink -f "$0")")
log=$1 skip=${2:-}

grep -n -E -f "$here/log-errors" "$log" |
	if [ -n "$skip" ]; then grep -v -E -e "$skip"; else cat; fi |
	head -1 | cut -d: -f1 | while read -r n; do
	awk -v n="$n" 'NR >= n && NR < n + 150 {
		print "      | " $0
		if ($0 ~ /---\[ end trace|^\[? *[0-9.]*\]? *stack backtrace:/)
			exit
	}' "$log"
done
