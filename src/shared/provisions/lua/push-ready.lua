-- Appends entries to the ready list and returns the flush generation in the same step, so the
-- flush job the caller then asks for is the one that will cut these entries (a flush bumps the
-- generation first).
-- KEYS: ready, flushGen
-- ARGV: the entries
-- Returns: { generation, list length }
redis.call('RPUSH', KEYS[1], unpack(ARGV))
return { tonumber(redis.call('GET', KEYS[2]) or '0'), redis.call('LLEN', KEYS[1]) }
