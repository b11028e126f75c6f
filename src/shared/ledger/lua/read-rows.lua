-- Reads rows as the ledger's hashes hold them, in one step (so a compaction moving them into pages
-- meanwhile is seen whole or not at all): their states, outcomes and, when asked, records. One
-- script call costs the client far less than a MULTI of HMGETs.
-- KEYS: rows, out, data
-- ARGV: withData (1|0), then the rows ...
-- Returns: { states, outcomes[, records] }, each a list in the rows' order (nil where none)
local function hmget_all(key)
  local values = {}
  -- In slices: unpack has a limit on the values it spreads.
  for i = 2, #ARGV, 1000 do
    local part = redis.call('HMGET', key, unpack(ARGV, i, math.min(i + 999, #ARGV)))
    for j = 1, #part do values[#values + 1] = part[j] end
  end
  return values
end
local result = { hmget_all(KEYS[1]), hmget_all(KEYS[2]) }
if ARGV[1] == '1' then result[3] = hmget_all(KEYS[3]) end
return result
