-- A batch is fully sent: it leaves the unsent set and its record goes, in one step (one script
-- call costs the client far less than a MULTI).
-- KEYS: unsent, batches
-- ARGV: batchId
-- Returns: nothing
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
