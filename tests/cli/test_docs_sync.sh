#!/usr/bin/env bash
# The man page (docs/clstyle.1) and the bash completion (scripts/clstyle.bash-completion)
# against the CLI, command by command: every long option that `clstyle --help` or a
# command's --help prints is documented (a .TP tag under OPTIONS, or under the command's
# .SS in COMMANDS) and completed; every option either names is one the command takes
# (its --help prints it, or `clstyle CMD OPT[=VALUE] --help` exits 0); the commands are
# the CLI's. Needs no device: only --help and usage are run.
#   test_docs_sync.sh CLSTYLE TMPDIR
source "$(dirname "$0")/prologue.sh"

man="$src/docs/clstyle.1" comp="$src/scripts/clstyle.bash-completion"
[ -f "$man" ] && [ -f "$comp" ] || { echo "FAIL: $man or $comp missing"; exit 1; }
export OCL_ICD_VENDORS=/nonexistent # a probe that got past its options would find no device
cd "$tmp" || exit 1                  # ... nor write anywhere but here

# the commands: the CLI's usage (`clstyle` alone), the completion's, the man page's
cli_cmds=$("$bin" 2>&1 | sed -nE 's/^ +clstyle ([a-z]+).*/\1/p' | sort -u)
comp_cmds=$(bash -c 'source "$1" && printf "%s\n" $_clstyle_commands' _ "$comp" | sort -u)
man_cmds=$(awk '/^\.SH/ { s = $2 } s == "COMMANDS" && /^\.SS/ { print $2 }' "$man" | sort -u)
[ -n "$cli_cmds" ] && ok || bad "no commands in the usage of '$bin'"
[ "$comp_cmds" = "$cli_cmds" ] && ok || bad "completion commands '$(echo $comp_cmds)', CLI's '$(echo $cli_cmds)'"
[ "$man_cmds" = "$cli_cmds" ] && ok || bad "man page commands '$(echo $man_cmds)', CLI's '$(echo $cli_cmds)'"

longopts() { grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u; }
# help_opts CMD: what CMD's --help prints (the main help up to its list of the other commands)
help_opts() {
    if [ "$1" = run ]; then "$bin" --help | sed '/^Other commands/,$d'; else "$bin" "$1" --help; fi | longopts
}
# man_opts CMD: the options of the .TP tags of CMD's part of the man page
man_opts() {
    awk -v want="$1" '
        /^\.SH/ { sect = $2; cur = sect == "OPTIONS" ? "run" : ""; next }
        /^\.SS/ && sect == "COMMANDS" { cur = $2; next }
        /^\.TP/ { tag = 1; next }
        tag { tag = 0; if (cur == want) print }' "$man" | sed 's/\\-/-/g; s/\\f[BIRP]//g' | longopts
}
comp_opts() { bash -c 'source "$1" && _clstyle_options "$2"' _ "$comp" "$1" | longopts; }
comp_value() { bash -c 'source "$1" && _clstyle_value "$2" "$3"' _ "$comp" "$1" "$2"; }
# accepts CMD OPT: the CLI takes OPT, with a value if it needs one, before --help. The
# value is attached (OPT=VALUE) so that no option can take --help for its value.
accepts() {
    local cmd=() v choice
    [ "$1" = run ] || cmd=("$1")
    [ "$2" = --help ] && { "$bin" "${cmd[@]}" --help >/dev/null 2>&1; return; }
    choice=$(comp_value "$1" "$2")
    case $choice in *'|'*) choice=${choice%%|*} ;; *) choice=seed ;; esac
    for v in 16 1 0.5 x "$choice"; do
        timeout 20 "$bin" "${cmd[@]}" "$2=$v" --help >/dev/null 2>&1 && return 0
    done
    timeout 20 "$bin" "${cmd[@]}" "$2" --help >/dev/null 2>&1
}

for cmd in run $cli_cmds; do
    if [ "$cmd" = run ]; then "$bin" --help >/dev/null; else "$bin" "$cmd" --help >/dev/null; fi
    [ $? -eq 0 ] && ok || bad "clstyle $cmd --help: exit status not 0"
    helped=$(help_opts "$cmd") documented=$(man_opts "$cmd") completed=$(comp_opts "$cmd")
    [ -n "$documented$completed" ] || [ -z "$helped" ] && ok || bad "$cmd: nothing documented or completed"
    for opt in $helped; do
        grep -qxF -- "$opt" <<<"$documented" && ok || bad "$cmd $opt: printed by --help, not in $man"
        grep -qxF -- "$opt" <<<"$completed" && ok || bad "$cmd $opt: printed by --help, not completed by $comp"
    done
    for opt in $(printf '%s\n' $documented $completed | sort -u); do
        grep -qxF -- "$opt" <<<"$helped" && { ok; continue; }
        accepts "$cmd" "$opt" && ok || bad "$cmd $opt: documented or completed, but the CLI does not take it"
    done
done

# the completion itself: it loads in bash and completes an option and a value
got=$(bash -c 'source "$1" && COMP_WORDS=(clstyle --opt) COMP_CWORD=1 && _clstyle && echo "${COMPREPLY[*]}"' _ "$comp")
[ "$got" = --optimizer ] && ok || bad "completion of 'clstyle --opt': '$got', want --optimizer"
got=$(bash -c 'source "$1" && COMP_WORDS=(clstyle --progress "") COMP_CWORD=2 && _clstyle && echo "${COMPREPLY[*]}"' _ "$comp")
[ "$got" = "auto line json" ] && ok || bad "completion of 'clstyle --progress ': '$got', want auto line json"
# the man page renders without warnings
if command -v groff >/dev/null; then
    w=$(groff -man -Tutf8 -ww -z "$man" 2>&1)
    [ -z "$w" ] && ok || bad "groff warns on $man: $w"
fi

echo "test_docs_sync: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
