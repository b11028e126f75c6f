-- Settles the rows of one drop that a provision carried: TRANSITION (transition.lua, put before
-- this file as the function transition_one) for each row still waiting on the provision
-- (`extension_submitted` with its provision id), exactly as a transition of its own; a row that is
-- not (settled already, or submitted again in another provision) stays as it is. With `forget`
-- set, the provision's record and its status job entry go in the same step (its last drop).
-- KEYS: rows, counts, meta, out, data, emp, provisions, statusJobs, then waiters(row) of each move ...
-- ARGV: now, provisionId, forget (0|1), then per move: row, to, outPatchJson ('' = none) ...
-- Returns: per move, TRANSITION's reply; `refused` for a row not waiting on the provision
local now, provisionId = ARGV[1], ARGV[2]
local replies = {}
for i = 1, (#ARGV - 3) / 3 do
  local a = 4 + (i - 1) * 3
  local row = ARGV[a]
  local state = redis.call('HGET', KEYS[1], row)
  if not state then
    replies[i] = { 'missing', '', 0 }
  elseif state == 'extension_submitted' and read_out(KEYS[4], row)['provisionId'] == provisionId then
    replies[i] = transition_one(
      { KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[8 + i] },
      { row, ARGV[a + 1], 'extension_submitted', ARGV[a + 2], now }
    )
  else
    replies[i] = { 'refused', state, 0 }
  end
end
if ARGV[3] == '1' then
  redis.call('HDEL', KEYS[7], provisionId)
  redis.call('HDEL', KEYS[8], provisionId)
end
return replies
