-- Moves the drop to `to` only from one of `fromCsv` (compare-and-set), setting and deleting the
-- given meta fields in the same step.
-- KEYS: meta
-- ARGV: fromCsv, to, delFieldsCsv ('' = none), then field, value pairs
-- Returns: { changed 1|0, previous status ('' for an unknown drop) }
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {0, ''} end
if not in_csv(ARGV[1], cur) then return {0, cur} end
redis.call('HSET', KEYS[1], 'status', ARGV[2])
for f in string.gmatch(ARGV[3], '[^,]+') do redis.call('HDEL', KEYS[1], f) end
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return {1, cur}
