-- Legitimate SCIM lookups (`userName eq`, an absent user: one indexed read), paced by delay():
-- connections × 1000 / ARG ms a second (scripts/bench/bogus_flood_wrk.sh).
local pause = 20
local i = 0
init = function(args) pause = tonumber(args[1]) or 20 end
request = function()
  i = i + 1
  return wrk.format("GET", wrk.path .. "?filter=userName%20eq%20%22nobody" .. i .. "%40x.test%22")
end
delay = function() return pause end
done = function(summary, latency, requests)
  io.write(string.format("lookups: %d in %.2f s (%.0f/s), non-2xx %d, p50 %.2f ms p99 %.2f ms max %.2f ms\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
