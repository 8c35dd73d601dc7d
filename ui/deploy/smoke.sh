#!/usr/bin/env bash
# The proxy half of the deployment, tried on one machine without Docker: two
# `isnad serve` replicas behind nginx with ui/deploy/nginx.conf (upstream names
# rewritten to loopback ports), a question through the proxy, then each replica
# killed in turn and the question asked again (nginx must move to the other one).
#
#   ISNAD_HOME=<a built data directory> bash ui/deploy/smoke.sh
#
# Needs nginx on PATH (Debian: apt-get install nginx) and the repo's .venv.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
py="$repo/.venv/bin/python"
isnad="$repo/.venv/bin/isnad"
: "${ISNAD_HOME:?set ISNAD_HOME to a built data directory}"
work=$(mktemp -d)
port=${SMOKE_PORT:-$("$py" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")}
pids=()
ok=0
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  nginx -c "$work/nginx.conf" -s quit 2>/dev/null || true
  for _ in $(seq 1 50); do [ -e "$work/nginx.pid" ] || break; sleep 0.1; done
  [ "$ok" = 1 ] || { echo "--- nginx error log"; cat "$work/error.log" 2>/dev/null; } >&2
  rm -rf "$work"
}
trap cleanup EXIT

sed -e 's/isnad-1:7860/127.0.0.1:17861/; s/isnad-2:7860/127.0.0.1:17862/' \
    -e "s/listen 80;/listen $port;/" "$here/nginx.conf" > "$work/site.conf"
cat > "$work/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 256; }
http { access_log $work/access.log; include $work/site.conf; }
EOF
nginx -t -c "$work/nginx.conf"

start_replica() {  # port -> pid
  "$isnad" serve --port "$1" > "$work/serve-$1.log" 2>&1 &
  echo $!
}
wait_up() {
  for _ in $(seq 1 180); do
    curl -fsS "http://127.0.0.1:$1/config" > /dev/null 2>&1 && return 0
    sleep 1
  done
  echo "replica on port $1 did not start; see $work/serve-$1.log" >&2; return 1
}
ask() {  # prints the answer's first characters; fails on an error or an empty answer
  "$py" - "http://127.0.0.1:$port/" <<'EOF'
import sys
from gradio_client import Client
got = Client(sys.argv[1], verbose=False).predict("ما هي مناورات بيرليك 2025؟", api_name="/ask")
assert got["answer"] and not got["abstained"], got
print("answered:", got["answer"][:60])
EOF
}

a=$(start_replica 17861); b=$(start_replica 17862); pids+=("$a" "$b")
wait_up 17861; wait_up 17862
nginx -c "$work/nginx.conf"
echo "both replicas up";            ask
kill "$a"; echo "replica 1 killed"; ask
a=$(start_replica 17861); pids+=("$a"); wait_up 17861
kill "$b"; echo "replica 2 killed"; ask
ok=1
echo "smoke test passed"
