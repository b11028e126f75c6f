-- Deletes the expired entries of some of a company's as-of buckets (values as in as-of-claim.lua:
-- `asOf` kept for ever, `asOf:expiresAt` until expiresAt, epoch ms of Redis's clock).
-- KEYS: buckets ...
-- ARGV: none
-- Returns: the number of entries deleted
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local deleted = 0
for _, bucket in ipairs(KEYS) do
  local flat = redis.call('HGETALL', bucket)
  local expired = {}
  for i = 1, #flat, 2 do
    local e = tonumber(string.match(flat[i + 1], ':(%d+)$'))
    if e and e <= now then expired[#expired + 1] = flat[i] end
  end
  -- HDEL in slices: unpack is bounded by Lua's stack.
  for i = 1, #expired, 1000 do
    deleted = deleted + redis.call('HDEL', bucket, unpack(expired, i, math.min(i + 999, #expired)))
  end
end
return deleted
