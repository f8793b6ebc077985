#!/usr/bin/env bash
# cimba.sh: the kernel against Cimba (github ambonvik/cimba, C with assembly
# coroutines, the authors' PGO "benchopt" build) on M/M/1 (λ 0.9, μ 1),
# side by side: PAIRS alternating pairs per style (twin, then Cimba, with
# the same seed), and the medians of customers/s, their ratio, and the
# spread (min–max) of the pairs' ratios, next to the targets of issue 15.
#
# customers/s is counted twice: over the wall time each program reports for
# its run, and over the CPU time (user+sys) of the process less that of the
# same program serving one customer (its start-up: twin's binary
# initialises more packages than Cimba's). A machine shared with other jobs
# disturbs the second far less: a process waiting for a core uses no CPU.
#
#   sim/bench/cimba.sh                 # PAIRS=7 CUSTOMERS=1000000
#
# Cimba is built outside the repository (never commit its source): PEER is
# the directory of the M/M/1 programs and their build script
# (mm1_events.c, mm1_servers.c, build.sh), CIMBA_DIR holds src/ (an
# unpacked Cimba tree: git clone https://github.com/ambonvik/cimba) and
# out/ (the build). Without src/ and a build the script says so and exits 0.
set -eu
cd "$(dirname "$0")/../.."
PAIRS=${PAIRS:-7}
CUSTOMERS=${CUSTOMERS:-1000000}
PEER=${PEER:-/work/shared/peers/cimba-mm1}
CIMBA_DIR=${CIMBA_DIR:-${TMPDIR:-/tmp}/cimba}
out=$CIMBA_DIR/out
bin=$out/cimba-bin
if [ ! -x "$bin/mm1_events_pgo" ] || [ ! -x "$bin/mm1_servers_pgo" ]; then
  if [ ! -f "$CIMBA_DIR/src/meson.build" ] || [ ! -x "$PEER/build.sh" ]; then
    echo "cimba.sh: no Cimba build in $bin and no source in $CIMBA_DIR/src or build script in $PEER;"
    echo "  clone github.com/ambonvik/cimba into $CIMBA_DIR/src (apt-get install meson ninja-build nasm) and run again"
    exit 0
  fi
  echo "building Cimba (release and PGO) in $out"
  CIMBA_SRC=$CIMBA_DIR/src OUT=$out "$PEER/build.sh"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
twin=$tmp/twin
go build -o "$twin" ./cmd/twin

# prog prints the command line of a program (twin or cimba) serving n
# customers of a style with a seed: prog twin|cimba style n seed.
prog() {
  case $1 in
    twin) echo "$twin bench mm1 --style $2 --customers $3 --seed $4" ;;
    cimba) echo "$bin/mm1_$2_pgo $3 $4" ;;
  esac
}
# cpu runs a command (its output in $tmp/out) and prints its CPU seconds.
cpu() {
  TIMEFORMAT='%U %S'
  { time "$@" >"$tmp/out"; } 2>"$tmp/time"
  awk '{print $1 + $2}' "$tmp/time"
}
# run prints "customers/s-wall customers/s-cpu" of prog's arguments.
run() {
  local c0 c1
  # shellcheck disable=SC2046 # prog's words are the command line
  c0=$(cpu $(prog "$1" "$2" 1 "$4"))
  # shellcheck disable=SC2046
  c1=$(cpu $(prog "$@"))
  jq -r --arg cpu "$(awk -v a="$c1" -v b="$c0" 'BEGIN {print a - b}')" \
    '"\(.customers_per_s) \(.customers / ($cpu | tonumber))"' "$tmp/out"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# summary style target label twin-values cimba-values pair-ratios
summary() {
  local mt mc lo hi
  mt=$(tr ' ' '\n' <<<"$4" | median)
  mc=$(tr ' ' '\n' <<<"$5" | median)
  lo=$(tr ' ' '\n' <<<"$6" | sort -g | head -1)
  hi=$(tr ' ' '\n' <<<"$6" | sort -g | tail -1)
  awk -v s="$1" -v w="$2" -v l="$3" -v mt="$mt" -v mc="$mc" -v lo="$lo" -v hi="$hi" -v n="$PAIRS" 'BEGIN {
    r = mt / mc
    printf "mm1 %-7s %-4s twin %5.2f M customers/s, Cimba PGO %5.2f M: twin/Cimba %.2f× (pairs %.2f–%.2f, medians of %d) target ≥ %.1f× %s\n",
      s, l, mt / 1e6, mc / 1e6, r, lo, hi, n, w, (r >= w ? "ok" : "MISSED")
  }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {print a / b}'; }
for style in events servers; do
  case $style in events) want=1.2 ;; servers) want=1.0 ;; esac
  tw="" cw="" rw="" tc="" cc="" rc=""
  for i in $(seq 1 "$PAIRS"); do
    read -r aw ac < <(run twin "$style" "$CUSTOMERS" "$i")
    read -r bw bc < <(run cimba "$style" "$CUSTOMERS" "$i")
    tw="$tw $aw" cw="$cw $bw" rw="$rw $(ratio "$aw" "$bw")"
    tc="$tc $ac" cc="$cc $bc" rc="$rc $(ratio "$ac" "$bc")"
  done
  summary "$style" "$want" wall "${tw# }" "${cw# }" "${rw# }"
  summary "$style" "$want" cpu "${tc# }" "${cc# }" "${rc# }"
done
