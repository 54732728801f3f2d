#!/usr/bin/env bash
# Usage: scripts/install-man-aliases.sh MAN3DIR PAGE.3...
#
# One page documents a whole header (man/mesos_loop.3 covers
# mesos_loop_new, mesos_timer_start, ...).  So that `man mesos_loop_new`
# works, this writes MAN3DIR/<name>.3 containing ".so man3/<page>.3" for
# every name listed in a page's NAME section that has no page of its own,
# the way man-pages and libbsd ship their aliases.  Called by `make install`.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 MAN3DIR PAGE.3..." >&2; exit 2; }
dir=$1
shift
[ -d "$dir" ] || { echo "$0: $dir is not a directory" >&2; exit 1; }

for page in "$@"; do
  [ -f "$page" ] || continue
  base=$(basename "$page" .3)
  # The NAME section: everything between ".SH NAME" and the next ".SH",
  # up to the "\-" that starts the description.
  names=$(awk '/^\.SH[ \t]/ {on = ($2 == "NAME"); next} on' "$page" |
    tr '\n' ' ' | sed -e 's/\\-.*//' -e 's/,/ /g')
  for n in $names; do
    case $n in
      *[!A-Za-z0-9_]* | "$base") continue ;;
    esac
    # A name with its own page in the tree keeps that page.
    [ -f "$(dirname "$page")/$n.3" ] && continue
    printf '.so man3/%s.3\n' "$base" > "$dir/$n.3"
    chmod 644 "$dir/$n.3"
  done
done
