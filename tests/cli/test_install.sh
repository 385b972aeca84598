#!/usr/bin/env bash
# `cmake --install` of the suite's build folder (the folder of CLSTYLE) into a temporary
# prefix, then what a user of the install gets: the files (the shared library with its
# SONAME, exporting the CLSTYLE_API functions of clstyle.h and nothing else), the
# pkg-config and CMake packages (examples/embed.c built with each, shared and static, and
# run), the installed CLI, man page and bash completion; a DESTDIR install keeps the
# prefix in clstyle.pc.
#   test_install.sh CLSTYLE TMPDIR
source "$(dirname "$0")/prologue.sh"

build=$(cd "$(dirname "$bin")" && pwd)
cache="$build/CMakeCache.txt"
[ -f "$cache" ] || { echo "FAIL: $build (the folder of $bin) is not a CMake build folder"; exit 1; }
cached() { sed -n "s/^$1:[A-Z]*=//p" "$cache"; }
libdir=$(cached CMAKE_INSTALL_LIBDIR); libdir=${libdir:-lib}
cc=$(cached CMAKE_C_COMPILER); cc=${cc:-cc}
# a sanitizer build's library needs its runtime loaded first: the examples get it too
san=()
case $(cached CLSTYLE_SANITIZE) in ON | on | TRUE | true | 1) san=(-fsanitize=address,undefined -fno-omit-frame-pointer) ;; esac
export CLSTYLE_NO_TUNE=1 # (XDG_CACHE_HOME is $tmp/cache: prologue.sh)
version=$("$bin" --version | sed -n 's/^clstyle //p')
major=${version%%.*}
[ -n "$version" ] && ok || bad "'$bin --version' printed no version"

# ---- install
prefix="$tmp/prefix"
if cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1; then ok; else
    bad "cmake --install $build: $(tail -n 5 "$tmp/install.log")"; fi
lib="$prefix/$libdir"
for f in bin/clstyle "$libdir/libclstyle.so.$version" "$libdir/libclstyle.a" include/clstyle.h \
    "$libdir/pkgconfig/clstyle.pc" "$libdir/cmake/clstyle/clstyleConfig.cmake" \
    "$libdir/cmake/clstyle/clstyleConfigVersion.cmake" "$libdir/cmake/clstyle/clstyleTargets.cmake" \
    share/man/man1/clstyle.1 share/bash-completion/completions/clstyle; do
    [ -f "$prefix/$f" ] && ok || bad "not installed: $f"
done
[ -x "$prefix/bin/clstyle" ] && ok || bad "bin/clstyle is not executable"
for l in "libclstyle.so.$major" libclstyle.so; do
    [ -L "$lib/$l" ] && [ "$(readlink -f "$lib/$l")" = "$(readlink -f "$lib/libclstyle.so.$version")" ] && ok ||
        bad "$libdir/$l is not a link to libclstyle.so.$version"
done
cmp -s "$src/include/clstyle.h" "$prefix/include/clstyle.h" && ok || bad "the installed clstyle.h differs from include/"

# ---- the shared library: its SONAME, and the public API alone in its dynamic symbols
so="$lib/libclstyle.so.$version"
soname=$(readelf -d "$so" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libclstyle.so.$major" ] && ok || bad "SONAME of $so is '$soname', want libclstyle.so.$major"
api=$(grep -oE 'CLSTYLE_API[^(]*\(' "$prefix/include/clstyle.h" | grep -oE 'clstyle_[a-z0-9_]+ *\($' | tr -d ' (' | sort -u)
exported=$(nm -D --defined-only --format=posix "$so" | awk '{ print $1 }' | sort -u)
[ -n "$api" ] && ok || bad "no CLSTYLE_API functions found in clstyle.h"
[ "$exported" = "$api" ] && ok || bad "libclstyle.so exports [$(echo $exported)], clstyle.h's CLSTYLE_API functions are [$(echo $api)]"

# ---- bin/clstyle: runs from the prefix on its own
"$prefix/bin/clstyle" --version >"$tmp/out" 2>&1 && [ "$(cat "$tmp/out")" = "clstyle $version" ] && ok ||
    bad "installed clstyle --version: $(cat "$tmp/out")"
if readelf -d "$prefix/bin/clstyle" | grep -qE 'R(UN)?PATH'; then bad "bin/clstyle keeps an RPATH"; else ok; fi
(cd "$tmp" && "$prefix/bin/clstyle" -c "$C" -s "$S" -w synthetic:1 --size 32 -n 1 -q -o "$tmp/cli.png") >"$tmp/out" 2>&1 &&
    [ -s "$tmp/cli.png" ] && ok || bad "installed clstyle run: $(tail -n 3 "$tmp/out")"

# ---- examples/embed.c through pkg-config: shared, then the static archive
export PKG_CONFIG_PATH="$lib/pkgconfig"
[ "$(pkg-config --modversion clstyle 2>&1)" = "$version" ] && ok || bad "pkg-config --modversion clstyle: $(pkg-config --modversion clstyle 2>&1)"
# check_ppm FILE: a binary PPM of the example's 64x48 result
check_ppm() {
    [ "$(head -c 13 "$1" 2>/dev/null | tr '\n' ' ')" = "P6 64 48 255 " ] && [ "$(stat -c %s "$1")" -eq $((13 + 64 * 48 * 3)) ]
}
# run_embed WHAT FILE.ppm CMD...: runs an embed binary, checks what it prints and writes
run_embed() {
    local what=$1 ppm=$2
    shift 2
    if "$@" "$ppm" >"$tmp/out" 2>"$tmp/err"; then ok; else bad "$what: exit $?: $(tail -n 3 "$tmp/err")"; return; fi
    grep -qE '^output 64x48, mean pixel value [0-9.]+$' "$tmp/out" && ok || bad "$what printed no output size: $(cat "$tmp/out")"
    grep -q '^iter 6/6 ' "$tmp/out" && ok || bad "$what: no progress line for iteration 6"
    check_ppm "$ppm" && ok || bad "$what: $ppm is not a 64x48 binary PPM"
}
if "$cc" -std=c11 -Wall -Wextra -Werror "${san[@]}" -o "$tmp/embed-pc" "$src/examples/embed.c" \
    $(pkg-config --cflags --libs clstyle) >"$tmp/cc.log" 2>&1; then ok; else bad "cc embed.c \$(pkg-config ...): $(head -n 5 "$tmp/cc.log")"; fi
[ -x "$tmp/embed-pc" ] && run_embed "embed (pkg-config)" "$tmp/pc.ppm" env LD_LIBRARY_PATH="$lib" "$tmp/embed-pc"
LD_LIBRARY_PATH="$lib" ldd "$tmp/embed-pc" 2>/dev/null | grep -qF "$lib/libclstyle.so.$major" && ok ||
    bad "embed (pkg-config) does not load $lib/libclstyle.so.$major"
# the static archive with Libs.private (pkg-config --static), -l:libclstyle.a picking it over the .so
if "$cc" -std=c11 "${san[@]}" -o "$tmp/embed-static" "$src/examples/embed.c" $(pkg-config --cflags clstyle) \
    $(pkg-config --static --libs clstyle | sed 's/-lclstyle\b/-l:libclstyle.a/') >"$tmp/cc.log" 2>&1; then ok; else
    bad "cc embed.c with libclstyle.a and \$(pkg-config --static --libs): $(head -n 5 "$tmp/cc.log")"; fi
if [ -x "$tmp/embed-static" ]; then
    if readelf -d "$tmp/embed-static" | grep -q 'NEEDED.*libclstyle'; then bad "embed (static) needs libclstyle.so"; else ok; fi
    run_embed "embed (static)" "$tmp/static.ppm" "$tmp/embed-static"
fi

# ---- examples/ through the CMake package (find_package(clstyle), clstyle::clstyle)
cflags="${san[*]}"
if cmake -S "$src/examples" -B "$tmp/examples" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_BUILD_TYPE=Release ${cflags:+"-DCMAKE_C_FLAGS=$cflags" "-DCMAKE_EXE_LINKER_FLAGS=$cflags"} >"$tmp/cmake.log" 2>&1 &&
    cmake --build "$tmp/examples" >>"$tmp/cmake.log" 2>&1; then ok; else bad "examples/ with find_package: $(tail -n 8 "$tmp/cmake.log")"; fi
grep -qF "$lib/cmake/clstyle" "$tmp/examples/CMakeCache.txt" 2>/dev/null && ok || bad "find_package(clstyle) did not find $lib/cmake/clstyle"
# (no LD_LIBRARY_PATH: CMake's build tree RPATH points at the imported library)
[ -x "$tmp/examples/embed" ] && run_embed "embed (CMake)" "$tmp/cmake.ppm" "$tmp/examples/embed"
cmp -s "$tmp/pc.ppm" "$tmp/cmake.ppm" && cmp -s "$tmp/pc.ppm" "$tmp/static.ppm" && ok ||
    bad "the three embed builds wrote different images"

# ---- man page and bash completion
if command -v man >/dev/null; then
    [ "$(man -M "$prefix/share/man" -w clstyle 2>/dev/null)" = "$prefix/share/man/man1/clstyle.1" ] && ok ||
        bad "man -M $prefix/share/man does not find clstyle(1)"
    MANWIDTH=80 man -l "$prefix/share/man/man1/clstyle.1" 2>/dev/null | grep -q '^NAME' && ok || bad "man -l clstyle.1 renders no NAME"
fi
got=$(bash -c 'source "$1" && complete -p clstyle >/dev/null && COMP_WORDS=(clstyle --opt) COMP_CWORD=1 && _clstyle &&
    echo "${COMPREPLY[*]}"' _ "$prefix/share/bash-completion/completions/clstyle" 2>&1)
[ "$got" = --optimizer ] && ok || bad "the installed completion completes 'clstyle --opt' to '$got', want --optimizer"

# ---- a staged install (DESTDIR): the files under it, clstyle.pc naming the prefix alone
DESTDIR="$tmp/stage" cmake --install "$build" --prefix /opt/clstyle >"$tmp/install.log" 2>&1 &&
    grep -qx 'prefix=/opt/clstyle' "$tmp/stage/opt/clstyle/$libdir/pkgconfig/clstyle.pc" && ok ||
    bad "DESTDIR install: $(tail -n 3 "$tmp/install.log"; cat "$tmp/stage/opt/clstyle/$libdir/pkgconfig/clstyle.pc" 2>&1)"

echo "test_install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
