-- wrk script for benchmarks/serve/run.sh: POST /v1/classify with one text per request, cycling through the request
-- bodies in the file $BODIES (one JSON body per line; each wrk thread starts at its own offset). With $LIMIT set,
-- each thread stops after LIMIT responses and leaves a file in $MARKS; wrk itself runs for its whole -d, so run.sh
-- sends it SIGINT once every thread has stopped. done() prints one JSON line.
local bodies = {}
for line in io.lines(os.getenv("BODIES")) do bodies[#bodies + 1] = line end
local limit = tonumber(os.getenv("LIMIT") or "0")
local threads = {}
local index = 0

function setup(thread)
  index = index + 1
  thread:set("offset", index * 7919)
  table.insert(threads, thread)
end

local n, responses = 0, 0
function init(args)
  n = offset or 0
  wrk.method = "POST"
  wrk.path = "/v1/classify"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  n = n + 1
  return wrk.format(nil, nil, nil, bodies[(n % #bodies) + 1])
end

function response(status, headers, body)
  responses = responses + 1
  if limit > 0 and responses == limit then
    local mark = io.open(os.getenv("MARKS") .. "/" .. offset, "w")
    mark:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "requests_per_s": %.1f, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, ' ..
    '"errors": %d, "non_200": %d, "socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}}\n',
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1e3, latency:percentile(90) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3, e.connect + e.read + e.write + e.status + e.timeout, e.status,
    e.connect, e.read, e.write, e.timeout))
end
