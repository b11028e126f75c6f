-- Blocks every process's calls: extends the block, never shortens one already set. Called for
-- 429s only, so it also records when the last one came.
-- KEYS: bucket hash
-- ARGV: ms
-- Returns: the ms the block is in force from now
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = now + tonumber(ARGV[1])
local cur = tonumber(redis.call('HGET', KEYS[1], 'blockedUntil') or '0')
if untilMs > cur then redis.call('HSET', KEYS[1], 'blockedUntil', tostring(untilMs)) end
redis.call('HSET', KEYS[1], 'last429', tostring(now))
redis.call('PEXPIRE', KEYS[1], 3600000)
return math.max(untilMs, cur) - now
