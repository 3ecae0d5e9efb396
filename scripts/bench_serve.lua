-- scripts/bench_serve.lua — wrk's script for the serve stage
-- (scripts/bench_serve.py runs it; see there).
--
-- In:  wrk's arguments after `--`: a file of request paths, one a line
--      (already URL-encoded, e.g. /search?q=%E6%98%8E%E6%9C%88&n=10&snippet=1).
-- Each wrk thread cycles through the paths, every thread from its own
-- offset (so they do not ask the same query at the same moment); each
-- request is a keep-alive GET of the next path.  When wrk is done, one
-- line on stdout: "bench_serve: " and a JSON object with the summary
-- counts and the latency percentiles in microseconds.

local paths_file = nil
local threads = {}

local function read_paths(file)
   local t = {}
   local f = assert(io.open(file, "r"))
   for line in f:lines() do
      if #line > 0 then
         t[#t + 1] = line
      end
   end
   f:close()
   assert(#t > 0, "no paths in " .. file)
   return t
end

-- The main state: number the threads, so that each starts elsewhere.
function setup(thread)
   thread:set("thread_no", #threads)
   threads[#threads + 1] = thread
end

-- Each thread's own state from here on.
local reqs = {}
local nreqs = 0
local next_no = 0

function init(args)
   paths_file = args[1]
   local paths = read_paths(paths_file)
   for i, p in ipairs(paths) do
      reqs[i] = wrk.format("GET", p)
   end
   nreqs = #reqs
   local n = tonumber(wrk.thread:get("thread_no")) or 0
   next_no = math.floor(n * nreqs / 7) % nreqs -- any offset apart
end

function request()
   next_no = next_no % nreqs + 1
   return reqs[next_no]
end

-- The main state again.
function done(summary, latency, requests)
   local e = summary.errors
   local p = {}
   for _, q in ipairs({ 50, 75, 90, 99, 99.9 }) do
      p[#p + 1] = string.format('"%s":%d', tostring(q), latency:percentile(q))
   end
   io.write(string.format(
      'bench_serve: {"duration_us":%d,"requests":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"stdev":%.1f,"percentiles":{%s}}}\n',
      summary.duration, summary.requests, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency.max, latency.stdev, table.concat(p, ",")))
end
