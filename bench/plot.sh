#!/usr/bin/env bash
# Plots CPU per leaf per scan against the number of leaves from a results.csv written by
# bench/scan_bench.sh. Usage: bench/plot.sh RESULTS.csv OUT.png
set -euo pipefail
cd "$(dirname "$0")/.."
csv=$1
png=$2
scripts/setup.sh gnuplot-nox
data=$(mktemp)
trap 'rm -f "$data"' EXIT
# Columns: kind leaves floor steady churn open_read listing (us per leaf per scan) first_walk_ms
# start_to_first_scan_ms
# once_cpu_ms rss_kib listen_rss_kib (registrations done) early_rss_kib listen_early_rss_kib
# (3.5 s after start); real cgroups only.
awk '$1 == "cgroup"' "$csv" | sort -n -k2 >"$data"
gnuplot <<GP
set terminal pngcairo size 900,560 font ",11"
set output "$png"
set title "CPU per leaf per scan, cgroup v1, empty leaf cgroups (getrusage, user+system)"
set xlabel "leaf cgroups"
set ylabel "microseconds per leaf per scan"
set logscale x
set xrange [700:14000]
set yrange [0:*]
set key top left
set grid
plot "$data" using 2:7 with linespoints lw 2 title "listing every directory every scan", \
     "$data" using 2:6 with linespoints lw 2 title "open+read+close of memory.stat", \
     "$data" using 2:5 with linespoints lw 2 title "daemon after 1% of leaves replaced", \
     "$data" using 2:4 with linespoints lw 2 title "daemon, steady state", \
     "$data" using 2:3 with linespoints lw 2 dt 2 title "kernel floor (pread on kept fds)"
GP
