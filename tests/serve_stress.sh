#!/bin/sh
# serve_stress.sh — runs tests/serve_stress.py (slow clients, writes
# during searches, SIGTERM in flight, kill -9 during writes) on $JIANSUO.
#
# In:  $JIANSUO; python3 (Debian's, from scripts/install-deps).
# Out: its lines and "serve_stress: N passed, M failed"; exit 77 (skip)
#      without python3.
: "${JIANSUO:?JIANSUO must name the jiansuo binary}"
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3) || { echo "serve_stress: no python3; skipped"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/jiansuo-stress.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
timeout 300 "$py" "$(dirname "$0")/serve_stress.py" "$JIANSUO" "$tmp"
