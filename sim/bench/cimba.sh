#!/usr/bin/env bash
# cimba.sh: the kernel against Cimba (github ambonvik/cimba, C with assembly
# coroutines, the authors' PGO "benchopt" build) on M/M/1 (λ 0.9, μ 1),
# side by side: PAIRS alternating pairs per style (twin, then Cimba, with
# the same seed), and the medians of customers/s, their ratio, and the
# spread (min–max) of the pairs' ratios, next to the targets of issue 15.
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
twin=$(mktemp -d)/twin
trap 'rm -rf "$(dirname "$twin")"' EXIT
go build -o "$twin" ./cmd/twin
cps() { jq -r .customers_per_s; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
for style in events servers; do
  case $style in events) want=1.2 ;; servers) want=1.0 ;; esac
  t=() c=() r=()
  for i in $(seq 1 "$PAIRS"); do
    a=$("$twin" bench mm1 --style "$style" --customers "$CUSTOMERS" --seed "$i" | cps)
    b=$("$bin/mm1_${style}_pgo" "$CUSTOMERS" "$i" | cps)
    t+=("$a") c+=("$b") r+=("$(awk -v a="$a" -v b="$b" 'BEGIN {print a/b}')")
  done
  mt=$(printf '%s\n' "${t[@]}" | median)
  mc=$(printf '%s\n' "${c[@]}" | median)
  lo=$(printf '%s\n' "${r[@]}" | sort -g | head -1)
  hi=$(printf '%s\n' "${r[@]}" | sort -g | tail -1)
  awk -v s="$style" -v mt="$mt" -v mc="$mc" -v lo="$lo" -v hi="$hi" -v w="$want" -v n="$PAIRS" 'BEGIN {
    r = mt / mc
    printf "mm1 %-7s twin %5.2f M customers/s, Cimba PGO %5.2f M: twin/Cimba %.2f× (pairs %.2f–%.2f, medians of %d) target ≥ %.1f× %s\n",
      s, mt / 1e6, mc / 1e6, r, lo, hi, n, w, (r >= w ? "ok" : "MISSED")
  }'
done
