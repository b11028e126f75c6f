-- Records that Concur refuses every credential we hold; the first refusal's time survives later
-- refusals (how long processing has been paused).
-- KEYS: refusal hash
-- ARGV: Concur's code ('' = none), since (epoch ms), message
-- Returns: 1
local since = redis.call('HGET', KEYS[1], 'since')
redis.call('HSET', KEYS[1], 'code', ARGV[1], 'message', ARGV[3], 'since', since or ARGV[2])
return 1
