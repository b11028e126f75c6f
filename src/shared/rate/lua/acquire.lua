-- Takes a token from the shared bucket, unless a Retry-After block is in force. Time is Redis's
-- (TIME), so processes with skewed clocks agree. Also records the rate in force (`rate`, `mode`
-- fixed or auto) for readers; in auto mode the rate is the adaptive controller's, kept in the hash.
-- Takes up to `want` tokens at once: a process asks once for every call it has waiting.
-- KEYS: bucket hash
-- ARGV: rps (0 = unlimited, -1 = auto), burst (auto: seconds of the rate), start rps (auto: the rate until the controller has decided one), want (default 1)
-- Returns: { tokens granted (0..want), ms to wait before asking for the rest (0 when all were granted) }
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rps, burst, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[4] or '1')
if rps < 0 then
  if redis.call('HGET', KEYS[1], 'mode') ~= 'auto' then
    redis.call('HSET', KEYS[1], 'mode', 'auto', 'rate', ARGV[3])
    redis.call('HDEL', KEYS[1], 'ctl', 'decidedAt')
  end
  rps = tonumber(redis.call('HGET', KEYS[1], 'rate')) or tonumber(ARGV[3])
  burst = math.max(1, rps * burst)
elseif redis.call('HGET', KEYS[1], 'rate') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'mode') ~= 'fixed' then
  redis.call('HSET', KEYS[1], 'mode', 'fixed', 'rate', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], 3600000)
end
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blockedUntil') or '0')
if blocked > now then return {0, blocked - now} end
if rps <= 0 then return {want, 0} end
local tokens = tonumber(redis.call('HGET', KEYS[1], 'tokens') or tostring(burst))
local ts = tonumber(redis.call('HGET', KEYS[1], 'ts') or tostring(now))
tokens = math.min(burst, tokens + (now - ts) * rps / 1000)
local granted = math.min(want, math.floor(tokens))
tokens = tokens - granted
local wait = 0
if granted < want then wait = math.ceil((1 - tokens) * 1000 / rps) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], 3600000)
return {granted, wait}
