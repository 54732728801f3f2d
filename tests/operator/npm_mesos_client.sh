#!/usr/bin/env bash
# The master's operator event stream (POST /api/v1 SUBSCRIBE) read by an
# unmodified third-party client: the record reader of @dcos/mesos-client
# (DC/OS UI's Mesos client, npm) on top of @dcos/recordio.  The client's
# own transport is a browser XMLHttpRequest, so the test feeds it what an
# XHR would: the growing response text, from node's http module; the
# parsing, the part that depends on our bytes, is the client's.
#
# The packages are installed once into $O/npm/ (like scripts/deps.sh does
# for Debian packages); without npm or a reachable registry the test is
# skipped, saying so.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 99
O=${O:-build}
master=$O/bin/mesos-master
if [ ! -x "$master" ]; then
  echo "FAIL: $master does not exist (build it: make O=$O)"
  exit 1
fi
if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
  echo "SKIPPED: node or npm is not installed"
  exit 77
fi
npmdir=$(realpath -m "$O/npm")
if [ ! -f "$npmdir/node_modules/@dcos/mesos-client/dist/stream/parseRecordioRecords.js" ]; then
  mkdir -p "$npmdir"
  if ! (cd "$npmdir" && timeout 120 npm install --no-audit --no-fund --silent \
          @dcos/mesos-client@1.0.0 @dcos/recordio@0.1.8 rxjs@6.3.3 > npm.log 2>&1); then
    echo "SKIPPED: cannot install @dcos/mesos-client from npm (registry unreachable?)"
    tail -3 "$npmdir/npm.log" 2>/dev/null
    exit 77
  fi
fi

tmp=$(mktemp -d /tmp/npm-mesos-client-XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2> /dev/null; wait "$pid" 2> /dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$master" --ip=127.0.0.1 --port="$port" --http_heartbeat_interval=200ms \
  --logging_level=WARNING > "$tmp/master.log" 2>&1 &
pid=$!
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$port/health" > /dev/null && break
  sleep 0.1
done

cat > "$tmp/client.js" << 'EOF'
// Subscribes to the operator stream, then subscribes a framework; expects
// SUBSCRIBED (with get_state), FRAMEWORK_ADDED and a HEARTBEAT, in that
// order of first appearance, all parsed by @dcos/mesos-client.
const http = require("http");
const path = require("path");
const base = path.join(process.argv[3], "node_modules");
const { Subject } = require(path.join(base, "rxjs"));
const parse = require(path.join(base, "@dcos/mesos-client/dist/stream/parseRecordioRecords")).default;
const port = Number(process.argv[2]);
const seen = [];
const fail = (why) => { console.log("FAIL: " + why); process.exit(1); };
setTimeout(() => fail("timed out; saw " + JSON.stringify(seen)), 10000);

const text = new Subject();
parse(text).subscribe((record) => {
  const ev = JSON.parse(record);
  if (!seen.includes(ev.type)) seen.push(ev.type);
  if (ev.type === "SUBSCRIBED") {
    if (!ev.subscribed || !ev.subscribed.get_state) fail("SUBSCRIBED without get_state");
    subscribeFramework();
  }
  if (ev.type === "FRAMEWORK_ADDED" &&
      ev.framework_added.framework.framework_info.name !== "npm client test")
    fail("FRAMEWORK_ADDED names " + JSON.stringify(ev.framework_added));
  if (seen.includes("SUBSCRIBED") && seen.includes("FRAMEWORK_ADDED") &&
      seen.includes("HEARTBEAT")) {
    if (seen[0] !== "SUBSCRIBED") fail("first event was " + seen[0]);
    console.log("ok: " + seen.join(" "));
    process.exit(0);
  }
});

const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/api/v1",
  headers: { "Content-Type": "application/json", Accept: "application/json" } }, (res) => {
  if (res.statusCode !== 200) fail("SUBSCRIBE answered " + res.statusCode);
  if (res.headers["content-type"] !== "application/json") fail("content-type " + res.headers["content-type"]);
  res.setEncoding("utf8");
  let all = "";  // what XMLHttpRequest.responseText holds
  res.on("data", (chunk) => { all += chunk; text.next(all); });
});
req.end(JSON.stringify({ type: "SUBSCRIBE" }));

let scheduler;
function subscribeFramework() {
  if (scheduler) return;
  scheduler = http.request({ host: "127.0.0.1", port, method: "POST", path: "/api/v1/scheduler",
    headers: { "Content-Type": "application/json" } }, (res) => res.resume());
  scheduler.end(JSON.stringify({ type: "SUBSCRIBE", subscribe: { framework_info:
    { user: "nobody", name: "npm client test" } } }));
}
EOF
out=$(node "$tmp/client.js" "$port" "$npmdir" 2>&1)
rc=$?
echo "$out"
if [ $rc -ne 0 ]; then
  echo "FAIL: the npm client did not read the stream (exit $rc)"
  cat "$tmp/master.log"
  exit 1
fi
kill "$pid"
wait "$pid"
st=$?
pid=
if [ $st -ne 0 ]; then
  echo "FAIL: mesos-master exited with $st"
  exit 1
fi
echo "npm_mesos_client: ok"
