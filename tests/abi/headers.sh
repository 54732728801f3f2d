#!/usr/bin/env bash
# Public headers are self-contained and portable (STYLE.md sections 4 and 5;
# libgit2's tests/headertest, plus a C++ pass):
#  - each header under include/mesos compiles alone, included twice, with
#    gcc -std=c11 -pedantic -Wall -Wextra -Werror (plus -Wstrict-prototypes,
#    so `f()` never sneaks in, and -Wundef), with g++ -std=c++11 -pedantic
#    -Wall -Wextra -Werror, and the same with clang/clang++ when installed;
#  - each header opens with an include guard MESOS_..._H (the headers'
#    own convention: include/mesos/sys/foo.h -> MESOS_SYS_FOO_H), and no
#    two headers share one;
#  - no header includes a dependency's header (libuv, mbedtls, yajl,
#    protobuf-c, llhttp stay inside the library), and every "quoted"
#    include resolves to a file under include/mesos;
#  - mesos.h includes (directly or not) every other top-level header;
#    include/mesos/sys/ (backend vtables) is deliberately left out of it,
#    as libgit2 keeps git2/sys/ out of git2.h;
#  - every MESOS_*_OPTIONS_INIT-style initializer macro initialises its
#    struct completely in C and in C++ (-Wmissing-field-initializers);
#  - every name in the version script links from a C++ program, so every
#    declaration sits inside extern "C".
. "$(dirname "$0")/common.inc"

make_tmpdir
headers=$(cd include && find mesos -name '*.h' | sort)
[ -n "$headers" ] || { echo "FAIL: no header under include/mesos"; exit 1; }

CWARN="-Wall -Wextra -Werror -Wstrict-prototypes -Wundef -Wshadow"
CXXWARN="-Wall -Wextra -Werror -Wundef -Wshadow"
compilers=("gcc|-x c -std=c11 -pedantic $CWARN" "g++|-x c++ -std=c++11 -pedantic $CXXWARN")
if command -v clang > /dev/null; then
  compilers+=("clang|-x c -std=c11 -pedantic $CWARN")
fi
if command -v clang++ > /dev/null; then
  compilers+=("clang++|-x c++ -std=c++11 -pedantic $CXXWARN")
fi

# ------------------------------------------------------------ alone, twice
for h in $headers; do
  {
    echo "#include <$h>"
    echo "#include <$h> /* the include guard must make this a no-op */"
    echo "int mesos_headertest_dummy(void);"
  } > "$TMP/alone.in"
  for c in "${compilers[@]}"; do
    cc=${c%%|*} flags=${c#*|}
    # shellcheck disable=SC2086
    if ! $cc $flags -Iinclude -c "$TMP/alone.in" -o "$TMP/alone.o" > "$TMP/out" 2>&1; then
      problem "include/$h does not compile alone with $cc $flags:"
      sed 's/^/    /' "$TMP/out" | head -20
    fi
  done
done

# ------------------------------------------------------------ guards
for h in $headers; do
  want=$(echo "$h" | tr 'a-z/.' 'A-Z__')
  # The first two directives must be the guard: #ifndef MESOS_..._H and
  # #define of the same name.
  read -r d1 g1 d2 g2 < <(grep -E '^[[:space:]]*#' "include/$h" | head -2 |
    sed -E 's/^[[:space:]]*#[[:space:]]*/#/' | awk '{printf "%s %s ", $1, $2}')
  if [ "${d1:-}" != "#ifndef" ] || [ "${d2:-}" != "#define" ] || [ "${g1:-}" != "${g2:-}" ] ||
     [[ ! ${g1:-} =~ ^MESOS_[A-Z0-9_]+_H$ ]]; then
    problem "include/$h must start with an include guard such as '#ifndef $want' '#define $want'"
  else
    echo "$g1 $h" >> "$TMP/guards"
  fi
done
touch "$TMP/guards"
while read -r g; do
  problem "include guard $g is used by several headers: $(awk -v g="$g" '$1 == g {print $2}' "$TMP/guards" | tr '\n' ' ')"
done < <(cut -d' ' -f1 "$TMP/guards" | sort | uniq -d)

# ------------------------------------------------------------ includes
# "x.h" must resolve to a file under include/mesos; <...> must not be one
# of the libraries the library hides.
for h in $headers; do
  dir=$(dirname "include/$h")
  while IFS=: read -r n q; do
    target=$(realpath -m "$dir/$q")
    case $target in
      "$ROOT"/include/mesos/*) [ -f "$target" ] || problem "include/$h:$n includes \"$q\", which does not exist" ;;
      *) problem "include/$h:$n includes \"$q\", which is not a public header" ;;
    esac
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "include/$h" |
    sed -E 's/^([0-9]+):[^"]*"([^"]+)".*/\1:\2/')
  while IFS= read -r line; do
    problem "include/$h includes a dependency's header (the library hides them): $line"
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(uv\.h|uv/|mbedtls/|psa/|yajl/|protobuf-c/|llhttp|check\.h|netlink/)' "include/$h")
done

# ------------------------------------------------------------ mesos.h
gcc -MM -Iinclude include/mesos/mesos.h | tr ' \\' '\n\n' | grep '\.h$' |
  sed 's|^include/||' | sort -u > "$TMP/reached"
for h in $headers; do
  case $h in
    mesos/mesos.h | mesos/sys/*) continue ;;
  esac
  grep -qx "$h" "$TMP/reached" || problem "include/mesos/mesos.h does not include $h"
done

# ------------------------------------------------------------ *_INIT macros
# A macro MESOS_FOO_BAR_INIT initialises the type mesos_foo_bar.
perl -ne 'print "$1\n" if /^\s*#\s*define\s+(MESOS_\w+)_INIT\b/' include/mesos/*.h include/mesos/*/*.h 2> /dev/null |
  sort -u > "$TMP/inits"
{
  for h in $headers; do echo "#include <$h>"; done
  echo "void mesos_headertest_inits(void);"
  echo "void mesos_headertest_inits(void) {"
  i=0
  while read -r m; do
    t=$(echo "$m" | tr 'A-Z' 'a-z')
    echo "  $t v$i = ${m}_INIT; (void)v$i;"
    i=$((i + 1))
  done < "$TMP/inits"
  echo "}"
} > "$TMP/inits.in"
for c in "${compilers[@]}"; do
  cc=${c%%|*} flags=${c#*|}
  # shellcheck disable=SC2086
  if ! $cc $flags -Wmissing-field-initializers -Iinclude -c "$TMP/inits.in" -o "$TMP/inits.o" > "$TMP/out" 2>&1; then
    problem "an *_INIT macro does not initialise its struct completely with $cc:"
    sed 's/^/    /' "$TMP/out" | head -20
  fi
done

# ------------------------------------------------------------ C++ linkage
lib=$LIBOUT/$SONAME
if [ ! -e "$lib" ]; then
  problem "$lib does not exist (build the library first)"
elif ! map_parse > "$TMP/map" 2> "$TMP/map.err"; then
  problem "$MAP_FILE: $(cat "$TMP/map.err")"
else
  {
    for h in $headers; do echo "#include <$h>"; done
    echo "typedef void (*fnptr)(void);"
    echo "static const fnptr all[] = {"
    awk '$1 == "sym" {printf "  reinterpret_cast<fnptr>(&%s),\n", $2}' "$TMP/map"
    echo "  0 };"
    echo "int main() { return all[0] == 0; }"
  } > "$TMP/link.cc"
  sanflags=
  [ "$SAN" = 1 ] && sanflags="-fsanitize=address,undefined"
  # shellcheck disable=SC2086
  if ! g++ -std=c++11 -Wall -Wextra -Werror $sanflags -Iinclude "$TMP/link.cc" -o "$TMP/link" \
       -L"$LIBOUT" -lmesos-core > "$TMP/out" 2>&1; then
    problem "a C++ program cannot link every exported function (missing extern \"C\"?):"
    sed 's/^/    /' "$TMP/out" | head -20
  fi
fi

echo "$(echo "$headers" | wc -w) headers, ${#compilers[@]} compilers"
finish
