#!/usr/bin/env bash
# `make install` produces a tree a program can build against with nothing but
# pkg-config:
#  - make install DESTDIR=<tmp> PREFIX=/usr/local, with this build's O,
#    LIBOUT and SAN, installing the libraries this test run is testing (make
#    is told not to rebuild them: -o, so a source edited meanwhile cannot
#    slip a different library in);
#  - the tree has every public header, libmesos-core.so.<version> with its
#    .so.1 and .so links, the static library, a libmesos-core.pc with every
#    @VAR@ substituted and the right version, every man page, a man alias
#    for every name in a page's NAME line (`man mesos_loop_new` works), and
#    the daemons that were built;
#  - a program compiled with `pkg-config --cflags --libs libmesos-core`
#    (PKG_CONFIG_SYSROOT_DIR and PKG_CONFIG_PATH pointed at the staging
#    tree) runs against the installed shared library (dladdr proves which
#    file was loaded) and sees mesos_version_number() == MESOS_VERSION_NUMBER;
#  - the same program linked statically with `pkg-config --static --libs`
#    and the whole archive (so every object's dependencies must be listed in
#    the .pc file's Requires.private / Libs.private) runs too.
. "$(dirname "$0")/common.inc"

command -v pkg-config > /dev/null || skip "pkg-config not installed (Debian pkg-config)"
make_tmpdir
stage=$TMP/stage
prefix=/usr/local
root=$stage$prefix
version=$(header_version)

# Calls from inside `make test` inherit the parent's jobserver flags; this
# make is a separate, serial one.
mk() {
  env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
    make -s --no-print-directory O="$O" LIBOUT="$LIBOUT" SAN="$SAN" "$@"
}
shlib=$(mk print-SHLIB)
stlib=$(mk print-STLIB)
daemons=$(mk print-DAEMONS)
[ -f "$shlib" ] || { echo "FAIL: $shlib does not exist (build the library first)"; exit 1; }
[ -f "$stlib" ] || { echo "FAIL: $stlib does not exist (build the library first)"; exit 1; }

if ! mk -o "$shlib" -o "$stlib" install DESTDIR="$stage" PREFIX="$prefix" > "$TMP/install.log" 2>&1; then
  sed 's/^/    /' "$TMP/install.log" | tail -30
  echo "FAIL: make install DESTDIR=$stage PREFIX=$prefix failed"
  exit 1
fi

# ------------------------------------------------------------ the tree
stray=$(cd "$stage" && find . -mindepth 1 -maxdepth 2 ! -path ./usr ! -path ./usr/local)
[ -z "$stray" ] || problem "make install wrote outside PREFIX: $stray"

for h in $(cd include && find mesos -name '*.h' | sort); do
  if ! cmp -s "include/$h" "$root/include/$h"; then
    problem "header $h is not installed as $prefix/include/$h"
  fi
done
for h in $(cd "$root/include" && find mesos -name '*.h' | sort); do
  [ -f "include/$h" ] || problem "$prefix/include/$h is installed but is not a public header"
done

real=$root/lib/libmesos-core.so.$version
if [ ! -f "$real" ] || [ -L "$real" ]; then
  problem "$prefix/lib/libmesos-core.so.$version is not installed as a file"
elif ! cmp -s "$shlib" "$real"; then
  problem "$prefix/lib/libmesos-core.so.$version differs from $shlib"
fi
[ "$(readlink "$root/lib/$SONAME")" = "libmesos-core.so.$version" ] ||
  problem "$prefix/lib/$SONAME must link to libmesos-core.so.$version"
[ "$(readlink "$root/lib/libmesos-core.so")" = "$SONAME" ] ||
  problem "$prefix/lib/libmesos-core.so must link to $SONAME"
[ -f "$root/lib/libmesos-core.a" ] || problem "$prefix/lib/libmesos-core.a is not installed"

pc=$root/lib/pkgconfig/libmesos-core.pc
if [ ! -f "$pc" ]; then
  problem "$prefix/lib/pkgconfig/libmesos-core.pc is not installed"
elif grep -n '@[A-Z_]*@' "$pc" > "$TMP/unsubst"; then
  problem "libmesos-core.pc has unsubstituted variables: $(tr '\n' ' ' < "$TMP/unsubst")"
fi

for p in man/*.[1-8]; do
  [ -f "$p" ] || continue
  s=${p##*.}
  cmp -s "$p" "$root/share/man/man$s/$(basename "$p")" ||
    problem "man page $p is not installed in $prefix/share/man/man$s"
done
# Every name in a NAME line is reachable with man (coverage of the exports
# is manpages.sh's job).
for p in man/*.3; do
  [ -f "$p" ] || continue
  for n in $(awk '/^\.SH[ \t]/ {on = ($2 == "NAME"); next} on' "$p" |
               tr '\n' ' ' | sed -e 's/\\-.*//' -e 's/,/ /g'); do
    case $n in *[!A-Za-z0-9_]*) continue ;; esac
    f=$root/share/man/man3/$n.3
    if [ ! -f "$f" ]; then
      problem "$p names $n, but $prefix/share/man/man3/$n.3 is not installed"
    elif target=$(sed -n 's/^\.so //p' "$f") && [ -n "$target" ] && [ ! -f "$root/share/man/$target" ]; then
      problem "$prefix/share/man/man3/$n.3 points to $target, which is not installed"
    fi
  done
done
if command -v man > /dev/null && [ -f "$root/share/man/man3/mesos_loop_new.3" ]; then
  # An alias resolves through man's own .so handling.
  if ! MANPATH='' LC_ALL=C.UTF-8 MANWIDTH=80 man -M "$root/share/man" 3 mesos_loop_new 2> "$TMP/man.err" |
       grep -q 'mesos_loop_new'; then
    problem "man -M $prefix/share/man mesos_loop_new does not show the page: $(cat "$TMP/man.err")"
  fi
fi

for d in $daemons; do
  [ -f "$d" ] || continue
  [ -x "$root/sbin/$(basename "$d")" ] || problem "daemon $d is not installed in $prefix/sbin"
done

# ------------------------------------------------------------ a user's program
cat > "$TMP/user.c" << 'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <mesos/mesos.h>

int main(void) {
  if (mesos_version_number() != MESOS_VERSION_NUMBER) {
    fprintf(stderr, "mesos_version_number() = %u, MESOS_VERSION_NUMBER = %u\n",
            (unsigned)mesos_version_number(), (unsigned)MESOS_VERSION_NUMBER);
    return 1;
  }
  if (strcmp(mesos_version_string(), MESOS_VERSION_STRING) != 0) {
    fprintf(stderr, "mesos_version_string() = %s\n", mesos_version_string());
    return 1;
  }
  mesos_loop *loop = NULL;
  mesos_error *err = NULL;
  if (mesos_loop_new(&loop, NULL, &err) != MESOS_OK) {
    fprintf(stderr, "mesos_loop_new: %s\n", mesos_error_message(err));
    mesos_error_free(err);
    return 1;
  }
  mesos_loop_free(loop);
  /* Which file the library code came from. */
  Dl_info info;
  union { uint32_t (*f)(void); void *p; } u = { mesos_version_number };
  if (dladdr(u.p, &info) == 0 || info.dli_fname == NULL) {
    fprintf(stderr, "dladdr failed\n");
    return 1;
  }
  printf("%s\n", info.dli_fname);
  return 0;
}
EOF

export PKG_CONFIG_SYSROOT_DIR=$stage
export PKG_CONFIG_PATH=$root/lib/pkgconfig
pcver=$(pkg-config --modversion libmesos-core 2> "$TMP/pc.err")
[ "$pcver" = "$version" ] ||
  problem "pkg-config --modversion libmesos-core says '$pcver' (expected $version): $(cat "$TMP/pc.err")"
cflags=$(pkg-config --cflags libmesos-core) || problem "pkg-config --cflags libmesos-core failed"
libs=$(pkg-config --libs libmesos-core) || problem "pkg-config --libs libmesos-core failed"
slibs=$(pkg-config --static --libs libmesos-core) || problem "pkg-config --static --libs libmesos-core failed"
echo "cflags: $cflags"
echo "libs: $libs"
echo "static libs: $slibs"
case " $cflags " in *" -I$root/include "*) ;; *) problem "pkg-config --cflags does not point at $prefix/include: $cflags" ;; esac

sanflags=
[ "$SAN" = 1 ] && sanflags="-fsanitize=address,undefined"

# Shared: must load the staged library, not the build tree's.
# shellcheck disable=SC2086
if gcc -std=c11 -Wall -Wextra -Werror $sanflags $cflags "$TMP/user.c" -o "$TMP/user" $libs -ldl \
     > "$TMP/cc.log" 2>&1; then
  if LD_LIBRARY_PATH=$root/lib "$TMP/user" > "$TMP/run.log" 2>&1; then
    loaded=$(tail -1 "$TMP/run.log")
    if [ "$(readlink -f "$loaded")" != "$(readlink -f "$real")" ]; then
      problem "the program loaded $loaded instead of the installed $real"
    fi
  else
    problem "the program built with pkg-config --libs fails: $(cat "$TMP/run.log")"
  fi
else
  problem "a program does not build with pkg-config --cflags --libs libmesos-core:"
  sed 's/^/    /' "$TMP/cc.log" | head -20
fi

# Static, whole archive: every object's dependencies must resolve.
whole="-Wl,--whole-archive -l:libmesos-core.a -Wl,--no-whole-archive"
# shellcheck disable=SC2086
if gcc -std=c11 -Wall -Wextra -Werror $sanflags $cflags "$TMP/user.c" -o "$TMP/user-static" \
     ${slibs/-lmesos-core/$whole} -ldl > "$TMP/cc.log" 2>&1; then
  if ! "$TMP/user-static" > "$TMP/run.log" 2>&1; then
    problem "the statically linked program fails: $(cat "$TMP/run.log")"
  elif readelf -d "$TMP/user-static" | grep -q 'libmesos-core'; then
    problem "the static program still needs libmesos-core.so"
  fi
else
  problem "the static library does not link with pkg-config --static --libs (missing Requires.private or Libs.private?):"
  sed 's/^/    /' "$TMP/cc.log" | head -20
fi

finish
