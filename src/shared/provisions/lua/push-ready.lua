-- Appends entries to the ready list and returns the flush generation in the same step, so the
-- flush job the caller then asks for is the one that will cut these entries (a flush bumps the
-- generation first), and the head entry's push time, which says when its linger ends.
-- KEYS: ready, flushGen, readyMarks, readySeq
-- ARGV: now, the entries...
-- Returns: { generation, list length, push time of the head entry (-1: unknown, due at once) }
redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))
mark_push(KEYS[1], KEYS[3], KEYS[4], #ARGV - 1, ARGV[1])
return {
  tonumber(redis.call('GET', KEYS[2]) or '0'),
  redis.call('LLEN', KEYS[1]),
  head_since(KEYS[1], KEYS[3], KEYS[4]),
}
