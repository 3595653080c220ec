-- A flood of bogus directory tokens (scripts/bench/bogus_flood_wrk.sh): each request a new
-- random `sgd_` token, from another client address than the lookups (X-Forwarded-For; the
-- server trusts 127.0.0.1 as a proxy), paced by delay(): connections × 1000 / ARG ms a second.
local pause = 1
init = function(args) pause = tonumber(args[1]) or 1; math.randomseed(os.time() + math.floor(os.clock() * 1e6)) end
local hex = "0123456789abcdef"
local function token()
  local t = {}
  for i = 1, 64 do local k = math.random(1, 16); t[i] = hex:sub(k, k) end
  return "sgd_" .. table.concat(t)
end
request = function()
  return wrk.format("GET", wrk.path, {["Authorization"] = "Bearer " .. token(), ["X-Forwarded-For"] = "198.51.100.66"})
end
delay = function() return pause end
done = function(summary, latency, requests)
  io.write(string.format("flood: %d requests in %.2f s (%.0f/s), errors: status %d timeout %d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    summary.errors.status, summary.errors.timeout))
end
