-- One process's call counts since its last report, added to the window counters; when a decision
-- is due (a window has passed, or a 429 came) and no other process is deciding, takes the short
-- deciding lock and returns what the controller needs, on Redis's time.
-- KEYS: limiter hash
-- ARGV: answered, throttled, failed, latency ms sum, latency count, window ms, urgent (1 after a 429), lock ms
-- Returns: {0} when no decision is due (or another process holds the lock), else {1, now, ctl, ok, 429, fail, lat, latn, last429, blockedUntil}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local k = KEYS[1]
if tonumber(ARGV[1]) > 0 then redis.call('HINCRBY', k, 'w:ok', ARGV[1]) end
if tonumber(ARGV[2]) > 0 then redis.call('HINCRBY', k, 'w:429', ARGV[2]) end
if tonumber(ARGV[3]) > 0 then redis.call('HINCRBY', k, 'w:fail', ARGV[3]) end
if tonumber(ARGV[5]) > 0 then
  redis.call('HINCRBYFLOAT', k, 'w:lat', ARGV[4])
  redis.call('HINCRBY', k, 'w:latn', ARGV[5])
end
redis.call('PEXPIRE', k, 3600000)
if redis.call('HGET', k, 'mode') ~= 'auto' then return {0} end
local since = now - tonumber(redis.call('HGET', k, 'decidedAt') or '0')
local lock = tonumber(redis.call('HGET', k, 'decidingUntil') or '0')
if lock > now or not (since >= tonumber(ARGV[6]) or (ARGV[7] == '1' and since >= 100)) then return {0} end
redis.call('HSET', k, 'decidingUntil', tostring(now + tonumber(ARGV[8])))
local f = redis.call('HMGET', k, 'ctl', 'w:ok', 'w:429', 'w:fail', 'w:lat', 'w:latn', 'last429', 'blockedUntil')
return {1, tostring(now), f[1] or '', f[2] or '0', f[3] or '0', f[4] or '0', f[5] or '0', f[6] or '0', f[7] or '0', f[8] or '0'}
