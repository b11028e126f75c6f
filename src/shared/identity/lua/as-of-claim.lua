-- Claims a person for a write as of a time: refused when a newer drop was applied to them already,
-- else the person's as-of becomes the later of the two (and its TTL starts again).
-- KEYS: the person's as-of key
-- ARGV: asOf (epoch ms), ttlMs (0 = no TTL)
-- Returns: the as-of already recorded when it is later than asOf (the write is stale), else 0
local current = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local asOf = tonumber(ARGV[1])
if current > asOf then return current end
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return 0
