#!/usr/bin/env bash
# Banned functions (STYLE.md section 8, curl's checksrc): none of these may
# appear as a word in library, public header, daemon or example sources.
#   strcpy strcat      no bound at all; use memcpy with a checked length or
#                      mesos__buf
#   sprintf vsprintf   same; use snprintf / mesos__buf_printf
#   strtok             hidden static state, not reentrant; use strtok_r or
#                      a length-checked cursor
#   atoi atol atoll    no error detection (garbage and overflow both give
#                      a number); use strtol/strtoull and check endptr/errno
#   gets               cannot be used safely at all
# The match is on whole words, so snprintf, strtok_r, fgets and the like do
# not trip it; `gets` also has to be followed by "(", since it is an
# English word too.  Comments are not exempt otherwise: write "string copy"
# rather than the banned name.
. "$(dirname "$0")/common.inc"

banned='\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|atoll)\b|\bgets[[:space:]]*\('
dirs=()
for d in lib include daemons examples; do
  [ -d "$d" ] && dirs+=("$d")
done

nfiles=0
while IFS= read -r -d '' f; do
  nfiles=$((nfiles + 1))
  while IFS= read -r hit; do
    fns=$(echo "${hit#*:}" | grep -oE "$banned" | tr -d '( \t' | sort -u | tr '\n' ' ')
    problem "$f:${hit%%:*}: uses banned ${fns% }: ${hit#*:}"
  done < <(grep -nE "$banned" "$f")
done < <(find "${dirs[@]}" -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z)

[ "$nfiles" -gt 0 ] || problem "no source file found under ${dirs[*]}"
echo "$nfiles files checked"
finish
