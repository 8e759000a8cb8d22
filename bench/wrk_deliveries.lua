-- wrk script: POST pre-signed deliveries in rotation, each with a unique X-GitHub-Delivery.
-- wrk -s bench/wrk_deliveries.lua URL -- INDEX_FILE RUN_ID   (INDEX_FILE lines: "<signature> <body path>")
local bodies, sigs = {}, {}
local counter = 0
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end

function init(args)
  run_id = args[2] or "run"
  local index = io.open(args[1], "rb")
  for line in index:lines() do
    local sig, file = line:match("(%S+) (%S+)")
    local f = io.open(file, "rb")
    bodies[#bodies + 1] = f:read("*a")
    f:close()
    sigs[#sigs + 1] = sig
  end
  index:close()
end

function request()
  counter = counter + 1
  local i = (counter % #bodies) + 1
  return wrk.format("POST", "/webhook", {
    ["Content-Type"] = "application/json",
    ["User-Agent"] = "GitHub-Hookshot/bench",
    ["X-GitHub-Event"] = "pull_request",
    ["X-GitHub-Delivery"] = run_id .. "-" .. tid .. "-" .. counter,
    ["X-Hub-Signature-256"] = sigs[i],
  }, bodies[i])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
