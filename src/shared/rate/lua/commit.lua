-- Stores the controller's decision (rate and state), subtracts the window counts it used (counts
-- added meanwhile stay for the next window) and releases the deciding lock.
-- KEYS: limiter hash
-- ARGV: rate, ctl JSON, now, answered, throttled, failed, latency ms sum, latency count (the counts the decision used), decision name
-- Returns: 1
local k = KEYS[1]
redis.call('HSET', k, 'rate', ARGV[1], 'ctl', ARGV[2], 'decidedAt', ARGV[3], 'decision', ARGV[9])
if tonumber(ARGV[4]) > 0 then redis.call('HINCRBY', k, 'w:ok', -tonumber(ARGV[4])) end
if tonumber(ARGV[5]) > 0 then redis.call('HINCRBY', k, 'w:429', -tonumber(ARGV[5])) end
if tonumber(ARGV[6]) > 0 then redis.call('HINCRBY', k, 'w:fail', -tonumber(ARGV[6])) end
if tonumber(ARGV[8]) > 0 then
  redis.call('HINCRBYFLOAT', k, 'w:lat', -tonumber(ARGV[7]))
  redis.call('HINCRBY', k, 'w:latn', -tonumber(ARGV[8]))
end
redis.call('HDEL', k, 'decidingUntil')
return 1
