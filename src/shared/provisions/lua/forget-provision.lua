-- A provision's rows have settled: its record and its status job entry go, in one step (one
-- script call costs the client far less than a MULTI).
-- KEYS: provisions, statusJobs
-- ARGV: provisionId
-- Returns: nothing
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
