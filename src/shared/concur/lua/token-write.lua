-- Writes the access token and the rotated refresh token together, so no process can ever read a
-- new access token next to a refresh token Concur has already invalidated (or the reverse), and
-- only while the writer holds the lock, or refreshed with the refresh token stored now, or finds
-- no token at all. A written token ends a recorded refusal.
-- KEYS: token hash, lock, refusal hash
-- ARGV: our lock token ('' = none), the refresh token we used ('' = none), accessToken, expiresAt, refreshAt, geolocation, refreshToken ('' = none)
-- Returns: 1 when it wrote, else 0
local mine = ARGV[1] ~= '' and redis.call('GET', KEYS[2]) == ARGV[1]
local same = ARGV[2] ~= '' and redis.call('HGET', KEYS[1], 'refreshToken') == ARGV[2]
local empty = redis.call('EXISTS', KEYS[1]) == 0
if not (mine or same or (empty and ARGV[1] ~= '')) then return 0 end
redis.call('DEL', KEYS[1], KEYS[3])
redis.call('HSET', KEYS[1], 'accessToken', ARGV[3], 'expiresAt', ARGV[4], 'refreshAt', ARGV[5], 'geolocation', ARGV[6])
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'refreshToken', ARGV[7]) end
return 1
