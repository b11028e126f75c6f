-- Records new rows (re-ingesting the same rows adds nothing). A `pending` row whose employee
-- number or (lower-cased) userName an earlier row of the drop already has is recorded `invalid`
-- instead, with a reason naming that row: duplicates are found in Redis, so the producer holds
-- nothing per row. userName keys live in the `emp` hash under "\0u:" (no employee number holds
-- a NUL) and go with it when the drop completes. Rows are recorded, not moved: the transition
-- table governs what happens to them next.
-- KEYS: rows, counts, data, out, emp
-- ARGV: file label, then groups of 6: row, state, dataJson|'', outJson|'', employeeNumber|'', userNameKey|''
-- Returns: { added, duplicate row numbers... }
local file = ARGV[1]
local added = 0
local result = {0}
-- Counters move once per state for the batch, not once per row.
local counts, terminal = {}, 0
for i = 2, #ARGV, 6 do
  local row, state, data, out, emp, uname = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  if redis.call('HEXISTS', KEYS[1], row) == 0 then
    added = added + 1
    if state == 'pending' then
      local reasons, column = {}, nil
      local firstUser = uname ~= '' and redis.call('HGET', KEYS[5], '\0u:' .. uname)
      if firstUser and firstUser ~= row then
        table.insert(reasons, 'userName: duplicate userName: row ' .. firstUser .. ' has the same userName')
        column = 'userName'
      end
      local firstEmp = emp ~= '' and redis.call('HGET', KEYS[5], emp)
      if firstEmp and firstEmp ~= row then
        table.insert(reasons, 'employeeNumber: duplicate employeeNumber: row ' .. firstEmp .. ' has the same employeeNumber')
        column = column or 'employeeNumber'
      end
      if #reasons > 0 then
        local o = identity_into(out ~= '' and cjson.decode(out) or {}, data)
        o['error'] = file .. ' row ' .. row .. ': ' .. table.concat(reasons, '; ')
        o['code'] = 'PROV_ERR_INPUT'
        o['column'] = column
        state, data, out = 'invalid', '', cjson.encode(o)
        table.insert(result, row)
      else
        if emp ~= '' then redis.call('HSETNX', KEYS[5], emp, row) end
        if uname ~= '' then redis.call('HSETNX', KEYS[5], '\0u:' .. uname, row) end
      end
    end
    redis.call('HSET', KEYS[1], row, state)
    counts[state] = (counts[state] or 0) + 1
    if TERMINAL[state] then terminal = terminal + 1 end
    if data ~= '' then redis.call('HSET', KEYS[3], row, data) end
    if out ~= '' then redis.call('HSET', KEYS[4], row, out) end
  end
end
for state, n in pairs(counts) do redis.call('HINCRBY', KEYS[2], state, n) end
if terminal > 0 then redis.call('HINCRBY', KEYS[2], '_terminal', terminal) end
result[1] = added
return result
