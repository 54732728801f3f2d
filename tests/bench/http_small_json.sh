#!/usr/bin/env bash
# HTTP server throughput on loopback: a small fixed JSON response over
# keep-alive connections, served by our server (tests/bench/httpd_small_json.c),
# nginx and h2o, each pinned to CPU 0 with wrk pinned to CPU 1:
#
#   wrk -t1 -c50 -d${BENCH_SECONDS:-10}s http://127.0.0.1:PORT/
#
# The three servers run side by side (idle ones cost nothing) and are
# measured in interleaved rounds (BENCH_ROUNDS, default 3); each server's
# best round counts, so load from elsewhere on the machine that comes and
# goes during the run does not decide the ratio.
#
# Prints, in requests per second:
#   bench: http-small-json <ours> requests/s baseline nginx <n> requests/s ratio <ours/n>
#   bench: http-small-json-h2o <ours> requests/s baseline h2o <n> requests/s ratio <ours/n>
#
# Every server runs as our own instance with a generated config in a temp
# dir and is stopped by pid on exit.  Exit 77 (skip) when a tool is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
O=${O:-build}
BIN=$O/bench/httpd_small_json
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNECTIONS:-50}
JSON='{"status":"ok","version":"1.0.0"}'

skip() { echo "SKIPPED: $*"; exit 77; }
[ -x "$BIN" ] || skip "$BIN is not built (make bench builds it)"
for tool in wrk nginx h2o taskset curl python3; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || skip "$tool is not installed"
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs (server and wrk pinned apart)"

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits until the URL answers with the JSON body.
wait_ready() {
  local url=$1 name=$2
  for _ in $(seq 1 100); do
    if [ "$(curl -s --max-time 1 "$url" 2>/dev/null)" = "$JSON" ]; then return 0; fi
    sleep 0.05
  done
  echo "bench: $name did not come up" >&2
  for f in "$work"/*.err; do [ -e "$f" ] && tail -5 "$f" >&2; done
  exit 1
}

# CPU time (clock ticks) used so far by a server: the process, its threads
# and its direct children (nginx's worker).
cpu_ticks() {
  local total=0 p
  for p in "$1" $(pgrep -P "$1" 2>/dev/null); do
    [ -r "/proc/$p/stat" ] || continue
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$total"
}

# Prints "<requests/s> <server CPU microseconds per request>" of a wrk run
# against URL.  The CPU cost per request hardly depends on what else runs
# on the machine, so it is printed too (on stderr) as a steadier measure.
measure() {
  local url=$1 pid=$2 t0 t1
  t0=$(cpu_ticks "$pid")
  taskset -c 1 wrk -t1 -c"$CONNS" -d"${SECS}s" "$url" > "$work/wrk.out"
  t1=$(cpu_ticks "$pid")
  if grep -qE 'Non-2xx|Socket errors' "$work/wrk.out"; then
    echo "bench: wrk reported errors against $url:" >&2
    cat "$work/wrk.out" >&2
  fi
  awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" '
    /requests in/ { n = $1 }
    /^Requests\/sec:/ { rps = $2 }
    END { printf "%.0f %.1f", rps, (n > 0 ? t * 1e6 / hz / n : 0) }' "$work/wrk.out"
}


# ---- ours
port=$(free_port)
taskset -c 0 "$BIN" "127.0.0.1:$port" > "$work/ours.out" 2> "$work/ours.err" &
ours_pid=$!
pids+=("$ours_pid")
wait_ready "http://127.0.0.1:$port/" ours
ours_url="http://127.0.0.1:$port/"

# ---- nginx
port=$(free_port)
mkdir -p "$work/nginx"
cat > "$work/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:$port;
    location / {
      default_type application/json;
      return 200 '$JSON';
    }
  }
}
CONF
taskset -c 0 "$NGINX" -p "$work/nginx" -c "$work/nginx.conf" 2> "$work/nginx-stderr.err" &
nginx_pid=$!
pids+=("$nginx_pid")
wait_ready "http://127.0.0.1:$port/" nginx
nginx_url="http://127.0.0.1:$port/"

# ---- h2o (static file: Debian's h2o serves it from memory-mapped cache)
port=$(free_port)
printf '%s' "$JSON" > "$work/small.json"
# Run as ourselves: as root h2o would switch to "nobody", who cannot
# write the pid file into our temp dir.
cat > "$work/h2o.conf" <<CONF
user: $(id -un)
num-threads: 1
pid-file: $work/h2o.pid
error-log: $work/h2o.err
listen:
  host: 127.0.0.1
  port: $port
hosts:
  default:
    paths:
      /:
        file.file: $work/small.json
CONF
taskset -c 0 h2o -c "$work/h2o.conf" > "$work/h2o-stdout.err" 2>&1 &
h2o_pid=$!
pids+=("$h2o_pid")
wait_ready "http://127.0.0.1:$port/" h2o
h2o_url="http://127.0.0.1:$port/"

# Warm-up, then interleaved rounds; the best round of each server counts.
for url in "$ours_url" "$nginx_url" "$h2o_url"; do
  taskset -c 1 wrk -t1 -c"$CONNS" -d2s "$url" >/dev/null
done
ours=0 nginx=0 h2o=0
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b ? a : b) }'; }
for round in $(seq 1 "$ROUNDS"); do
  read -r r_ours c_ours <<< "$(measure "$ours_url" "$ours_pid")"
  read -r r_nginx c_nginx <<< "$(measure "$nginx_url" "$nginx_pid")"
  read -r r_h2o c_h2o <<< "$(measure "$h2o_url" "$h2o_pid")"
  echo "round $round: requests/s ours $r_ours nginx $r_nginx h2o $r_h2o;" \
       "server CPU us/request ours $c_ours nginx $c_nginx h2o $c_h2o" >&2
  ours=$(best "$ours" "$r_ours")
  nginx=$(best "$nginx" "$r_nginx")
  h2o=$(best "$h2o" "$r_h2o")
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
echo "bench: http-small-json $ours requests/s baseline nginx $nginx requests/s ratio $(ratio "$ours" "$nginx")"
echo "bench: http-small-json-h2o $ours requests/s baseline h2o $h2o requests/s ratio $(ratio "$ours" "$h2o")"
