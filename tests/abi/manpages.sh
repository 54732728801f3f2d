#!/usr/bin/env bash
# Man pages document the whole API and lint clean (STYLE.md section 6;
# curl's test1139 and test1173 do the same for libcurl):
#  - every page under man/ renders with
#      LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l PAGE
#    and with groff -ww -man -z without a single warning;
#  - .TH names the page after its file, in its file's section;
#  - a section 3 page has NAME, SYNOPSIS, DESCRIPTION, RETURN VALUE, ERRORS,
#    THREAD SAFETY, EXAMPLE and SEE ALSO, in that order; a section 8 page
#    at least NAME, SYNOPSIS, DESCRIPTION and SEE ALSO;
#  - every exported function (the library's dynamic symbols and the names
#    in lib/libmesos-core.map) appears in the NAME line and the SYNOPSIS of
#    one section 3 page, so apropos finds it and the page shows how to call
#    it;
#  - every public header that declares functions has its page,
#    include/mesos/foo.h -> man/mesos_foo.3 (include/mesos/sys/foo.h ->
#    man/mesos_sys_foo.3);
#  - a reference to one of our own section 3 pages (mesos_*(3),
#    libmesos-core(3)) names a page that exists or a name in some page's
#    NAME line (make install links those names to their page);
#  - an EXAMPLE that is a whole program (has main) compiles with -Wall
#    -Wextra -Werror against the headers, links against the library and
#    exits 0 within 20 s (so an example must not need root, a network or
#    a running master), so examples cannot rot.
. "$(dirname "$0")/common.inc"

command -v groff > /dev/null || skip "groff not installed (Debian groff-base; make deps installs it)"
command -v man > /dev/null || skip "man not installed (Debian man-db; make deps installs it)"

make_tmpdir
pages=$(find man -maxdepth 1 -type f -name '*.[1-8]' 2> /dev/null | sort)
[ -n "$pages" ] || { echo "FAIL: no man page under man/"; exit 1; }

# Prints the text of section $2 (e.g. "NAME") of page $1, font escapes
# removed, without the .SH line itself.
section() {
  awk -v want="$2" '
    /^\.SH[ \t]/ {
      t = $0; sub(/^\.SH[ \t]+/, "", t); gsub(/"/, "", t)
      on = (t == want); next
    }
    on { print }' "$1" |
    sed -e 's/\\f[BIRP]//g' -e 's/\\f([A-Za-z][A-Za-z]//g' -e 's/\\f\[[^]]*\]//g' \
        -e 's/\\-/-/g' -e 's/\\&//g'
}

# ------------------------------------------------------------ lint
for p in $pages; do
  out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$p" 2>&1 > /dev/null)
  if [ -n "$out" ]; then
    problem "$p: man --warnings reports:"
    echo "$out" | sed 's/^/    /'
  fi
  out=$(groff -ww -man -z "$p" 2>&1)
  if [ -n "$out" ]; then
    problem "$p: groff -ww reports:"
    echo "$out" | sed 's/^/    /'
  fi

  base=$(basename "$p")
  sect=${base##*.}
  name=${base%.*}
  th=$(grep -m1 '^\.TH' "$p" | awk '{print $2, $3}')
  want="$(echo "$name" | tr 'a-z-' 'A-Z-') $sect"
  # .TH may escape hyphens in the title.
  [ "${th//\\-/-}" = "$want" ] || problem "$p: .TH is '$th', expected '$want'"

  case $sect in
    3) required=("NAME" "SYNOPSIS" "DESCRIPTION" "RETURN VALUE" "ERRORS" "THREAD SAFETY" "EXAMPLE" "SEE ALSO") ;;
    *) required=("NAME" "SYNOPSIS" "DESCRIPTION" "SEE ALSO") ;;
  esac
  grep -E '^\.SH[[:space:]]' "$p" | sed -E 's/^\.SH[[:space:]]+//; s/"//g' > "$TMP/sections"
  last=0
  for s in "${required[@]}"; do
    n=$(grep -nxF "$s" "$TMP/sections" | head -1 | cut -d: -f1)
    if [ -z "$n" ]; then
      problem "$p: has no '.SH $s' section"
    elif [ "$n" -lt "$last" ]; then
      problem "$p: section '$s' is out of order (expected: ${required[*]})"
    else
      last=$n
    fi
  done
done

# ------------------------------------------------------------ coverage
if ! map_parse > "$TMP/map" 2> "$TMP/map.err"; then
  problem "$MAP_FILE: $(cat "$TMP/map.err")"
fi
{
  awk '$1 == "sym" {print $2}' "$TMP/map"
  if [ -e "$LIBOUT/$SONAME" ]; then
    lib_exports "$LIBOUT/$SONAME" | awk '{print $1}'
  else
    problem "$LIBOUT/$SONAME does not exist (build the library first)"
  fi
} | sort -u > "$TMP/exports"
header_exports > "$TMP/hdr"

for p in $pages; do
  case $p in *.3) ;; *) continue ;; esac
  section "$p" NAME | tr -c 'A-Za-z0-9_\n' ' ' | tr ' ' '\n' | grep -E '^mesos_' |
    sed "s|\$| $p|" >> "$TMP/named"
  section "$p" SYNOPSIS | tr -c 'A-Za-z0-9_\n' ' ' | tr ' ' '\n' | grep -E '^mesos_' |
    sed "s|\$| $p|" >> "$TMP/synopsis"
done
touch "$TMP/named" "$TMP/synopsis"
while read -r sym; do
  hdr=$(awk -v n="$sym" '$1 == n {print $2; exit}' "$TMP/hdr")
  page=$(awk -v n="$sym" '$1 == n {print $2; exit}' "$TMP/named")
  if [ -z "$page" ]; then
    want=man/mesos_$(basename "${hdr:-include/mesos/unknown.h}" .h).3
    case $hdr in include/mesos/*/*) want=man/mesos_$(echo "${hdr#include/mesos/}" | tr / _ | sed 's/\.h$//').3 ;; esac
    problem "$sym has no man page: list it in the NAME line and the SYNOPSIS of $want${hdr:+ (it is declared in $hdr)}"
  elif ! grep -qxF "$sym $page" "$TMP/synopsis"; then
    problem "$sym is named in $page but its SYNOPSIS does not show it"
  fi
done < "$TMP/exports"

for h in $(cut -d' ' -f2 "$TMP/hdr" | sort -u); do
  rel=${h#include/mesos/}
  want=man/mesos_$(echo "${rel%.h}" | tr / _).3
  [ -f "$want" ] || problem "$h declares functions but has no page $want"
done

# ------------------------------------------------------------ references
# `make install` links every name in a NAME line to its page
# (scripts/install-man-aliases.sh), so mesos_loop_new(3) is a valid
# reference as long as man/mesos_loop.3 names it.
for p in $pages; do
  while read -r ref; do
    [ -f "man/$ref.3" ] && continue
    grep -q "^$ref " "$TMP/named" && continue
    problem "$p refers to $ref(3), but no page is named $ref or lists it in its NAME line"
  done < <(grep -E '^\.(BR|IR|B|I|RB)[[:space:]]' "$p" |
             sed -e 's/\\-/-/g' |
             grep -oE '(mesos_[A-Za-z0-9_]+|libmesos-core) \(3\)' | awk '{print $1}' | sort -u)
done

# ------------------------------------------------------------ examples
sanflags=
[ "$SAN" = 1 ] && sanflags="-fsanitize=address,undefined"
nexamples=0
for p in $pages; do
  ex="$TMP/$(basename "$p").c"
  section "$p" EXAMPLE | awk '/^\.EX/ {on = 1; next} /^\.EE/ {on = 0; next} on' |
    sed -e 's/\\e/\\/g' -e 's/\\(dq/"/g' -e "s/\\\\(aq/'/g" > "$ex"
  grep -q 'main(' "$ex" || continue
  nexamples=$((nexamples + 1))
  # shellcheck disable=SC2086
  if ! gcc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $sanflags -Iinclude "$ex" -o "$ex.bin" \
       -L"$LIBOUT" -lmesos-core -lpthread > "$TMP/out" 2>&1; then
    problem "$p: the EXAMPLE program does not compile:"
    sed 's/^/    /' "$TMP/out" | head -20
    continue
  fi
  if ! LD_LIBRARY_PATH="$LIBOUT" timeout 20 "$ex.bin" < /dev/null > "$TMP/out" 2>&1; then
    problem "$p: the EXAMPLE program fails when run:"
    sed 's/^/    /' "$TMP/out" | head -20
  fi
done

echo "$(echo "$pages" | wc -w) pages, $(wc -l < "$TMP/exports") exports, $nexamples example programs"
finish
