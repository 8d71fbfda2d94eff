-- wrk script of the ingestion benchmark (bench/ingest.py): each connection posts the lines of
-- its own body file (bench/payloads.py) in order, and the script records which of them were
-- answered, so that the stored rows can be checked against exactly what was acknowledged.
--
-- Run with as many threads as connections (-t N -c N): a thread then has one connection, and
-- since wrk does not pipeline, every response answers the thread's latest request.
--
-- Environment: BENCH_BODIES (directory of 1.body … N.body), BENCH_PATH (URL path),
-- BENCH_RESULT (JSON file written at the end), BENCH_DELAY_MS (optional pause before each
-- request, to send at a set pace rather than flat out).

local threads = {}
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")

-- Only when pacing: with a delay() at all, wrk sends every request from a timer.
if pause > 0 then
   function delay()
      return pause
   end
end

function setup(thread)
   table.insert(threads, thread)
   thread:set("connection", #threads)
end

function init(args)
   bodies = {}
   for line in io.lines(os.getenv("BENCH_BODIES") .. "/" .. connection .. ".body") do
      bodies[#bodies + 1] = line
   end
   lines = #bodies
   path = os.getenv("BENCH_PATH")
   headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
   sent = 0        -- requests made; request k posts line ((k - 1) mod #bodies) + 1
   ok = 0          -- answered 2xx
   unanswered = {} -- requests that never got an answer (their connection failed)
   failed = {}     -- "[request,status]" of every non-2xx answer
   waiting = false
   -- wrk calls the first thread's request() once before starting, only to parse what it
   -- returns (wrk.c, script_verify_request): that call must not count as a request sent.
   verified = connection ~= 1
end

function request()
   if not verified then
      verified = true
      return wrk.format("POST", path, headers, bodies[1])
   end
   if waiting then
      unanswered[#unanswered + 1] = sent
   end
   sent = sent + 1
   waiting = true
   return wrk.format("POST", path, headers, bodies[(sent - 1) % #bodies + 1])
end

function response(status, headers, body)
   waiting = false
   if status >= 200 and status < 300 then
      ok = ok + 1
   else
      failed[#failed + 1] = "[" .. sent .. "," .. status .. "]"
   end
end

local function list(items)
   return "[" .. table.concat(items, ",") .. "]"
end

function done(summary, latency, requests)
   local connections = {}
   for i, thread in ipairs(threads) do
      local unanswered = thread:get("unanswered")
      if thread:get("waiting") then
         unanswered[#unanswered + 1] = thread:get("sent")
      end
      connections[i] = string.format(
         '{"lines":%d,"sent":%d,"ok":%d,"unanswered":%s,"failed":%s}',
         thread:get("lines"), thread:get("sent"), thread:get("ok"), list(unanswered),
         list(thread:get("failed")))
   end
   local errors = summary.errors
   local out = assert(io.open(os.getenv("BENCH_RESULT"), "w"))
   out:write(string.format(
      '{"duration_us":%d,"requests":%d,"errors":{"connect":%d,"read":%d,"write":%d,' ..
      '"status":%d,"timeout":%d},"latency_us":{"p50":%.0f,"p90":%.0f,"p99":%.0f,"max":%.0f},' ..
      '"connections":[%s]}\n',
      summary.duration, summary.requests, errors.connect, errors.read, errors.write,
      errors.status, errors.timeout, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, table.concat(connections, ",")))
   out:close()
end
