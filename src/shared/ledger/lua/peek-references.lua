-- Where each employee number is in the drop and what its row can already answer for good (its
-- uuid, or that it ended without one), read-only: the identity stage asks once per chunk instead
-- of once per reference. A row with neither is still being written: the caller asks `wait-for`,
-- which registers the wait atomically. Mirrors wait-for.lua's answers.
-- KEYS: emp, out, rows
-- ARGV: employee numbers
-- Returns: per number, three strings: row ('' when no row of the drop has it), uuid ('' when none),
--   '1' when the row ended without a uuid, else '0'
local res = {}
for i = 1, #ARGV do
  local row = redis.call('HGET', KEYS[1], ARGV[i])
  local uuid, ended = '', '0'
  if row then
    local outRaw = redis.call('HGET', KEYS[2], row)
    if outRaw then
      local out = cjson.decode(outRaw)
      if out['uuid'] then uuid = out['uuid'] end
    end
    if uuid == '' then
      local state = redis.call('HGET', KEYS[3], row)
      if (not state) or TERMINAL[state] then ended = '1' end
    end
  else
    row = ''
  end
  res[#res + 1] = row
  res[#res + 1] = uuid
  res[#res + 1] = ended
end
return res
