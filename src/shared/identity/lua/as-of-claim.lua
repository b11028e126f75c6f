-- Claims a person for a write as of a time: refused when a later as-of is recorded for them, else
-- the person's as-of becomes the later of the two and its time to live starts again.
-- Self-contained: reads nothing but its KEYS, its ARGV and Redis's clock, so a bigger script can
-- run it as a function of (KEYS, ARGV).
-- Storage: the person's field in their company's bucket hash (as-of.ts picks the bucket), valued
-- `asOf` (kept for ever) or `asOf:expiresAt` (epoch ms, Redis's clock). An entry past expiresAt
-- counts as absent (as-of-prune.lua deletes it later). A person's string key from versions before
-- the buckets (`legacy`, set with PX) counts too: it is moved into the bucket, then deleted.
-- KEYS: bucket, legacy
-- ARGV: uuid, asOf (epoch ms), ttlMs (0 = kept for ever)
-- Returns: the as-of already recorded when it is later than asOf (the write is stale), else 0
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local uuid, asOf, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])

-- What is recorded: the later of the bucket's unexpired entry and the legacy key.
local current, expiresAt = 0, nil
local entry = redis.call('HGET', KEYS[1], uuid)
if entry then
  local a, e = string.match(entry, '^(%d+):?(%d*)$')
  e = tonumber(e)
  if e == nil or e > now then current, expiresAt = tonumber(a), e end
end
local legacy = redis.call('GET', KEYS[2])
if legacy then
  local value = tonumber(legacy) or 0
  if value > current then
    local pttl = redis.call('PTTL', KEYS[2])
    current, expiresAt = value, pttl >= 0 and now + pttl or nil
  end
  redis.call('DEL', KEYS[2])
end

local function record(value, expires)
  redis.call('HSET', KEYS[1], uuid, expires and string.format('%d:%d', value, expires) or string.format('%d', value))
end
if current > asOf then
  -- Refused: what is recorded stays as it was (a legacy key moves into the bucket as is).
  if legacy then record(current, expiresAt) end
  return current
end
record(asOf, ttl > 0 and now + ttl or nil)
return 0
