-- Releases the token refresh lock, only our own (it may have expired and been taken by another process).
-- KEYS: lock
-- ARGV: our lock token
-- Returns: 1 when it released the lock, else 0
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
