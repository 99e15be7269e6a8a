#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print kernel log LOG with every report that ./known-reports describes
# replaced by one line "DMA-IOVA-KNOWN name".  Every other line, and any
# report not described there exactly, is printed as it is.
#
# Usage: known-reports.sh LOG
set -uo pipefail

here=$(dirname "$(readlink -f "$0")")

awk -F' *[|] *' '
# The known list: name, kind, sorted class list.
FNR == NR {
	if ($0 ~ /^[ \t]*(#|$)/)
		next
	n = split($3, c, " ")
	known[++nk] = $1
	kind[nk] = $2
	classes[nk] = sorted(c, n)
	next
}
function sorted(a, n,    i, j, t, s) {
	for (i = 1; i <= n; i++)
		for (j = i + 1; j <= n; j++)
			if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	s = ""
	for (i = 1; i <= n; i++)
		s = s (i > 1 ? " " : "") a[i]
	return s
}
function flush(    i, name, s, n) {
	name = ""
	n = 0
	for (s in seen)
		got[++n] = s
	s = sorted(got, n)
	for (i = 1; i <= nk; i++)
		if (kind[i] == "circular" && classes[i] == s)
			name = known[i]
	if (name != "" && done)
		print "DMA-IOVA-KNOWN " name
	else
		for (i = 1; i <= nb; i++)
			print buf[i]
	nb = 0
	inrep = 0
	done = 0
	delete seen
	delete got
}
# A lockdep circular-dependency report runs from its title to the end of
# the backtrace that follows "stack backtrace:".
/WARNING: possible circular locking dependency detected/ {
	if (inrep)
		flush()
	inrep = 1
	back = 0
}
!inrep {
	print
	next
}
{
	buf[++nb] = $0
	if (match($0, /-> #[0-9]+ \(/)) {
		s = substr($0, RSTART + RLENGTH)
		sub(/\).*/, "", s)
		seen[s] = 1
	}
	if ($0 ~ /stack backtrace:/)
		back = 1
	if (back && $0 ~ /<\/TASK>/) {
		done = 1
		flush()
	} else if (nb >= 1000) {
		flush()
	}
}
END {
	if (inrep)
		flush()
}' "$here/known-reports" "$1"
