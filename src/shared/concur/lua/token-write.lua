-- Writes the sealed token (access token, rotated refresh token and geolocation in one encrypted
-- field), so no process can ever read a new access token next to a refresh token Concur has
-- already invalidated (or the reverse), and only while the writer holds the lock, or refreshed with
-- the refresh token stored now, or finds no token at all. A written token ends a recorded refusal.
-- The stored refresh token is known by its keyed tag; a record still in clear (written before
-- records were sealed) by the SHA-1 of its refresh token, which Redis computes here.
-- KEYS: token hash, lock, refusal hash
-- ARGV: our lock token ('' = none), tag of the refresh token we used ('' = none), its SHA-1 hex,
--       the sealed record, tag of the record's refresh token ('' = none)
-- Returns: 1 when it wrote, else 0
local mine = ARGV[1] ~= '' and redis.call('GET', KEYS[2]) == ARGV[1]
local same = false
if ARGV[2] ~= '' then
  local tag = redis.call('HGET', KEYS[1], 'refreshTag')
  if tag then
    same = tag == ARGV[2]
  else
    local clear = redis.call('HGET', KEYS[1], 'refreshToken')
    same = clear ~= false and redis.sha1hex(clear) == ARGV[3]
  end
end
local empty = redis.call('EXISTS', KEYS[1]) == 0
if not (mine or same or (empty and ARGV[1] ~= '')) then return 0 end
redis.call('DEL', KEYS[1], KEYS[3])
redis.call('HSET', KEYS[1], 'sealed', ARGV[4])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'refreshTag', ARGV[5]) end
return 1
