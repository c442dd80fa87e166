#!/usr/bin/env bash
# scripts/plots on the committed benchmark data (bench/results, copied to a temporary directory):
# every data file becomes an SVG that names the machine and kernel it was measured on.
#
#   plots_test.sh SOURCE_DIR
#
# Exit status: 0 pass, 77 skip (gnuplot not installed), else fail.
set -euo pipefail
src=$(readlink -f "${1:?usage: plots_test.sh SOURCE_DIR}")
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
if ! command -v gnuplot >/dev/null; then
    [ "${SDNET_NO_SKIP:-}" = 1 ] && fail "gnuplot is not installed (SDNET_NO_SKIP=1)"
    echo "SKIP: gnuplot is not installed (scripts/setup installs gnuplot-nox)"
    exit 77
fi
work=$(mktemp -d /tmp/sdnet-plots.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp "$src"/bench/results/*.csv "$work/"
"$src/scripts/plots" "$work"
for csv in "$work"/*.csv; do
    svg=${csv%.csv}.svg
    [ -s "$svg" ] || fail "no SVG for ${csv##*/}"
    grep -q "<svg" "$svg" || fail "${svg##*/} is not an SVG"
    kernel=$(sed -n 's/^# kernel: //p' "$csv")
    [ -n "$kernel" ] || fail "${csv##*/} has no '# kernel:' line"
    grep -qF "$kernel" "$svg" || fail "${svg##*/} does not name the kernel '$kernel'"
    # Every data row must have been read: gnuplot draws a polyline per plotted series.
    grep -q "<path" "$svg" || fail "${svg##*/} has no plotted data"
done
echo "plots: ok ($(ls "$work"/*.svg | wc -l) figures)"
