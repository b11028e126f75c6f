-- Asks for the uuid of another row of the drop (a manager, an approver), registering the asking
-- row as a waiter when the target has none yet (released when it gets one or ends).
-- KEYS: out, rows, waiters(targetRow)
-- ARGV: targetRow, waiterRow
-- Returns: the target's uuid; '!ended' when the target ended without one; '' after registering the waiter
local outRaw = redis.call('HGET', KEYS[1], ARGV[1])
if outRaw then
  local out = cjson.decode(outRaw)
  if out['uuid'] then return out['uuid'] end
end
local state = redis.call('HGET', KEYS[2], ARGV[1])
if (not state) or TERMINAL[state] then return '!ended' end
redis.call('SADD', KEYS[3], ARGV[2])
return ''
