-- Reads the as-of recorded for a person, as as-of-claim.lua reads it (keep the two in step): the
-- later of their unexpired bucket entry and their legacy key. Writes nothing.
-- KEYS: bucket, legacy
-- ARGV: uuid
-- Returns: the recorded as-of (epoch ms), or false when none
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local current = nil
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if entry then
  local a, e = string.match(entry, '^(%d+):?(%d*)$')
  e = tonumber(e)
  if e == nil or e > now then current = tonumber(a) end
end
local legacy = tonumber(redis.call('GET', KEYS[2]) or '')
if legacy and (current == nil or legacy > current) then current = legacy end
if current == nil then return false end
return current
