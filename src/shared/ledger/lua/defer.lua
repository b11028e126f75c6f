-- Defers a `pending` row until its in-drop manager has a uuid, so it is written once, with the
-- manager, instead of created now and patched later. The manager may itself be deferred (a chain
-- up the org tree); every chain ends at a row that is pending, written or being written, so it
-- resolves, unless it leads back to this row: a cycle, and then the row is not deferred (it is
-- written now and linked later), so nothing waits forever. Which row a deferred row waits for is
-- kept in the drop's `emp` hash under "\0d:<row>" (no employee number holds a NUL), so it goes
-- when the drop completes.
-- KEYS: rows, counts, waiters(targetRow), out, emp
-- ARGV: targetRow, row, absent ('1' when the look-up found no such person in Concur: recorded in
--       the outcome, so the row is created when released without a second look-up)
-- Returns: 1 when the row now waits in `manager_wait` (without a uuid), else 0
local row = ARGV[2]
if redis.call('HGET', KEYS[1], row) ~= 'pending' then return 0 end
local function has_uuid(r)
  local outRaw = redis.call('HGET', KEYS[4], r)
  return outRaw ~= false and cjson.decode(outRaw)['uuid'] ~= nil
end
local first = redis.call('HGET', KEYS[1], ARGV[1])
if (not first) or TERMINAL[first] or has_uuid(ARGV[1]) then return 0 end
-- Walk up the chain of deferred managers: back to this row means a cycle.
local t = ARGV[1]
for _ = 1, 1000 do
  if t == row then return 0 end
  if redis.call('HGET', KEYS[1], t) ~= 'manager_wait' or has_uuid(t) then break end
  t = redis.call('HGET', KEYS[5], '\0d:' .. t)
  if not t then break end
end
if not move_row(KEYS[1], KEYS[2], row, 'pending', 'manager_wait') then return 0 end
redis.call('HSET', KEYS[5], '\0d:' .. row, ARGV[1])
redis.call('SADD', KEYS[3], row)
if ARGV[3] == '1' then merge_out(KEYS[4], row, { absent = true }) end
return 1
