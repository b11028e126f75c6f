-- Records one recent write: the version Concur answered for a user (or "unknown" while pending),
-- kept for the search lag. A script (not a bare SET) so it can go with the row's move in one call.
-- KEYS: the user's recent-write key
-- ARGV: version tag, window (ms)
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
