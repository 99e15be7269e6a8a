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
	pend = ""
	delete hseen
	delete hgot
}
# held(LINE): note the lock class of a lock line of such a report, the
# class without the "#N" instance suffix of lockdep.
function held(line,    s) {
	if (!match(line, / \(/))
		return
	s = substr(line, RSTART + 2)
	sub(/\)\{.*/, "", s)
	sub(/#[0-9]+$/, "", s)
	hseen[s] = 1
	if (++nlock == nheld)
		hflush()
}
# Such a report is its title, a rule, two lines that say how many locks
# are held, and a line per lock.  Other messages may cut a lock line in
# pieces (anywhere before its usage bits, "){+.+.}-{0:0}", or before its
# ", at:" part); a piece has no space in it, and lines of other messages,
# which do, pass through as they are.
/WARNING: lock held when returning to user space!/ {
	if (inheld)
		hflush()
	inheld = 1
	nheld = -1
	nlock = 0
	hbuf[++nh] = $0
	next
}
inheld && pend != "" {
	if ($0 ~ /\)\{[^}]*\}-\{[0-9]+:[0-9]+\}/) {
		hbuf[++nh] = $0
		s = pend $0
		pend = ""
		held(s)
	} else if ($0 != "" && $0 !~ / /) {
		hbuf[++nh] = $0
		pend = pend $0
	} else {
		print
	}
	next
}
inheld {
	if ($0 ~ /^-+$/ || $0 ~ /is leaving the kernel with locks still held/ ||
	    $0 ~ /^, at: /) {
		hbuf[++nh] = $0
	} else if ($0 ~ /^[0-9]+ locks? held by /) {
		nheld = $1 + 0
		hbuf[++nh] = $0
	} else if ($0 ~ /^ *#[0-9]+: /) {
		hbuf[++nh] = $0
		if ($0 ~ /\)\{/)
			held($0)
		else
			pend = $0
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
