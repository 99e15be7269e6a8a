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
# hflush: end a report of locks held on return to user space: one line
# if ./known-reports describes its lock classes, else the report.
function hflush(    i, name, s, n) {
	n = 0
	for (s in hseen)
		hgot[++n] = s
	s = sorted(hgot, n)
	name = ""
	for (i = 1; i <= nk; i++)
		if (kind[i] == "held" && classes[i] == s)
			name = known[i]
	if (name != "" && nheld > 0 && nlock == nheld)
		print "DMA-IOVA-KNOWN " name
	else
		for (i = 1; i <= nh; i++)
			print hbuf[i]
	nh = 0
	inheld = 0
	delete hseen
	delete hgot
}
# Such a report is its title, a rule, two lines that say how many locks
# are held, and a line per lock (whose ", at:" part another message may
# push to a line of its own).  Lines of other messages printed in between
# pass through as they are.
/WARNING: lock held when returning to user space!/ {
	if (inheld)
		hflush()
	inheld = 1
	nheld = -1
	nlock = 0
	hbuf[++nh] = $0
	next
}
inheld {
	if ($0 ~ /^-+$/ || $0 ~ /is leaving the kernel with locks still held/ ||
	    $0 ~ /^, at: /) {
		hbuf[++nh] = $0
	} else if ($0 ~ /^[0-9]+ locks? held by /) {
		nheld = $1 + 0
		hbuf[++nh] = $0
	} else if ($0 ~ /^ *#[0-9]+: / && match($0, / \(/)) {
		# the class, without the "#N" instance suffix of lockdep
		s = substr($0, RSTART + 2)
		sub(/\)\{.*/, "", s)
		sub(/#[0-9]+$/, "", s)
		hseen[s] = 1
		hbuf[++nh] = $0
		if (++nlock == nheld)
			hflush()
	} else {
		print
	}
	next
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
	if (inheld)
		hflush()
}' "$here/known-reports" "$1"
