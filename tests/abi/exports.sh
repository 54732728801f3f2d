#!/usr/bin/env bash
# The exported symbol set is exactly the linker version script, and every
# export is public API (STYLE.md section 4; curl's test1119/test1167 idea):
#  - exported dynamic symbols == the names in lib/libmesos-core.map;
#  - every export starts with mesos_ and carries the version node the map
#    puts it in (an unversioned export means the map was bypassed);
#  - every export is a function (exported data would freeze its size and
#    layout, and cannot be versioned by an accessor later);
#  - the map is well formed: exact names, no duplicates, each node after
#    the first chained to the one before, the newest node is this release;
#  - SONAME is libmesos-core.so.1; libmesos-core.so.1 is a symlink to the
#    real libmesos-core.so.<version> file; libmesos-core.so links to .so.1;
#  - every global symbol of the static library starts with mesos_ (two
#    vendored exceptions, see below), so static linking cannot collide;
#  - every map name is declared with MESOS_EXTERN in a header under
#    include/mesos, and every MESOS_EXTERN declaration is in the map (else
#    the library hides a function its headers promise).
. "$(dirname "$0")/common.inc"

version=$(header_version)
[ -n "$version" ] || { echo "FAIL: no MESOS_VERSION_STRING in include/mesos/version.h"; exit 1; }
major=${version%%.*}
minor=${version#*.}; minor=${minor%%.*}
lib=$LIBOUT/$SONAME
real=$LIBOUT/libmesos-core.so.$version

[ -e "$lib" ] || { echo "FAIL: $lib does not exist (build the library first)"; exit 1; }

make_tmpdir

# ------------------------------------------------------------ the map itself
if ! map_parse > "$TMP/map" 2> "$TMP/map.err"; then
  problem "$MAP_FILE: $(cat "$TMP/map.err")"
  finish
fi
awk '$1 == "sym" {print $2, $3}' "$TMP/map" | sort > "$TMP/map.syms"
awk '$1 == "node" {print $2, $3}' "$TMP/map" > "$TMP/map.nodes"

[ -s "$TMP/map.syms" ] || problem "$MAP_FILE lists no symbol at all"

while read -r name count; do
  problem "$MAP_FILE lists $name $count times"
done < <(cut -d' ' -f1 "$TMP/map.syms" | sort | uniq -c | awk '$1 > 1 {print $2, $1}')

prev=-
while read -r node parent; do
  if [ "$parent" != "$prev" ]; then
    if [ "$prev" = - ]; then
      problem "$MAP_FILE: the first node $node must not inherit (it names $parent)"
    else
      problem "$MAP_FILE: node $node must be chained to the one before it: '} $prev;' (found '$parent')"
    fi
  fi
  case $node in
    MESOS_[0-9]*.[0-9]*) ;;
    *) problem "$MAP_FILE: node $node is not named MESOS_<major>.<minor>" ;;
  esac
  prev=$node
done < "$TMP/map.nodes"
if [ "$prev" != "MESOS_$major.$minor" ]; then
  problem "$MAP_FILE: newest node is $prev but include/mesos/version.h says $version (add a node MESOS_$major.$minor)"
fi

# ------------------------------------------------------------ the library
lib_exports "$lib" > "$TMP/exports.raw"
[ -s "$TMP/exports.raw" ] || problem "$lib exports no symbol at all"
while read -r name ver type; do
  case $name in
    mesos__*) problem "$name is exported but is internal (mesos__ prefix)" ;;
    mesos_*) ;;
    *) problem "$name is exported but does not start with mesos_" ;;
  esac
  if [ "$ver" = - ]; then
    problem "$name is exported without a version node (not covered by $MAP_FILE?)"
  fi
  case $type in
    T | t | W | i) ;;
    *) problem "$name is exported as nm type '$type': only functions may be exported" ;;
  esac
done < "$TMP/exports.raw"
awk '{print $1, $2}' "$TMP/exports.raw" | sort > "$TMP/exports"

# Names only: a symbol in the wrong node shows up separately below.
cut -d' ' -f1 "$TMP/map.syms" | sort -u > "$TMP/map.names"
cut -d' ' -f1 "$TMP/exports" | sort -u > "$TMP/export.names"
while read -r name; do
  problem "$name is listed in $MAP_FILE but not exported by $lib (not defined, or defined without MESOS_EXTERN)"
done < <(comm -23 "$TMP/map.names" "$TMP/export.names")
while read -r name; do
  problem "$name is exported by $lib but not listed in $MAP_FILE"
done < <(comm -13 "$TMP/map.names" "$TMP/export.names")

# Version node agreement, for names present on both sides.
while read -r name mapnode libnode; do
  [ "$mapnode" = "$libnode" ] ||
    problem "$name carries version $libnode in $lib but $MAP_FILE puts it in $mapnode"
done < <(join "$TMP/map.syms" "$TMP/exports")

# ------------------------------------------------------------ file names
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$soname" = "$SONAME" ] || problem "SONAME of $lib is '$soname', expected $SONAME"
if [ ! -L "$lib" ]; then
  problem "$lib must be a symlink to libmesos-core.so.$version, it is a plain file"
elif [ "$(readlink "$lib")" != "libmesos-core.so.$version" ]; then
  problem "$lib points to '$(readlink "$lib")', expected libmesos-core.so.$version"
fi
if [ ! -f "$real" ] || [ -L "$real" ]; then
  problem "$real must be the real library file"
fi
if [ "$(readlink "$LIBOUT/libmesos-core.so" 2>/dev/null)" != "$SONAME" ]; then
  problem "$LIBOUT/libmesos-core.so (the link-time name) must be a symlink to $SONAME"
fi

# ------------------------------------------------------------ static library
# A program that links libmesos-core.a sees every global symbol of every
# object, hidden or not, so each must carry our prefix (internals are
# mesos__x, STYLE.md section 1) or it may collide with the program's own.
# Two vendored exceptions are known: llhttp compiled from Debian's
# node-llhttp sources (llhttp_*) and the protoc-c output of Google's
# well-known types (google__protobuf__*).  The sanitizer build adds its own
# __odr_asan.* markers.
stlib=$LIBOUT/libmesos-core.a
if [ -f "$stlib" ]; then
  nm -g --defined-only "$stlib" 2> /dev/null | awk 'NF == 3 {print $3}' | sort -u > "$TMP/static"
  [ -s "$TMP/static" ] || problem "$stlib defines no global symbol"
  while read -r name; do
    problem "$name is a global symbol of $stlib without the mesos_ prefix (make it static or call it mesos__...)"
  done < <(grep -vE '^(mesos_|llhttp_|google__protobuf__|__odr_asan[._])' "$TMP/static")
else
  problem "$stlib does not exist (build the library first)"
fi

# ------------------------------------------------------------ the headers
header_exports > "$TMP/hdr.raw"
sort -k1,1 "$TMP/hdr.raw" > "$TMP/hdr"
cut -d' ' -f1 "$TMP/hdr" | sort -u > "$TMP/hdr.names"
while read -r name count; do
  problem "$name is declared with MESOS_EXTERN $count times: $(awk -v n="$name" '$1 == n {print $2}' "$TMP/hdr" | tr '\n' ' ')"
done < <(cut -d' ' -f1 "$TMP/hdr" | sort | uniq -c | awk '$1 > 1 {print $2, $1}')
while read -r name; do
  problem "$name is in $MAP_FILE but no header under include/mesos declares it with MESOS_EXTERN"
done < <(comm -23 "$TMP/map.names" "$TMP/hdr.names")
while read -r name; do
  problem "$name is declared MESOS_EXTERN in $(awk -v n="$name" '$1 == n {print $2; exit}' "$TMP/hdr") but missing from $MAP_FILE"
done < <(comm -13 "$TMP/map.names" "$TMP/hdr.names")

echo "$(wc -l < "$TMP/exports") exports, $(wc -l < "$TMP/map.names") names in $MAP_FILE, $(wc -l < "$TMP/hdr.names") MESOS_EXTERN declarations"
finish
