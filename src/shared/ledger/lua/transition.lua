-- Moves one row to `to` when the transition table allows it (and, when the caller names states,
-- only from one of them), merges the patch into its outcome, completes the drop when this was its
-- last open row, and lists the rows waiting for this row's uuid once it has one or ends (the caller
-- re-enqueues them). A repeated call changes nothing.
-- KEYS: rows, counts, meta, out, data, emp, waiters(row)
-- ARGV: row, to, fromCsv ('' = any state the table allows), outPatchJson ('' = none), now
-- Returns: { result, previous state, drop completed (0|1), waiter rows... }
--   result: ok | same | terminal (already terminal) | refused (a move the table or fromCsv does not allow) | missing
local row, to, from, patch, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local cur = redis.call('HGET', KEYS[1], row)
if not cur then return {'missing', '', 0} end
-- The set stays until the caller has re-enqueued the waiters (forgetReleasedWaiters): a worker
-- killed in between would otherwise lose them, leaving rows in manager_wait forever.
local function release_waiters(result)
  for _, w in ipairs(redis.call('SMEMBERS', KEYS[7])) do table.insert(result, w) end
  return result
end
if cur == to then
  -- Same state, but a uuid may arrive now (a deferred row written at last): release its waiters.
  if patch ~= '' and merge_out(KEYS[4], row, cjson.decode(patch))['uuid'] ~= nil then
    return release_waiters({'same', cur, 0})
  end
  return {'same', cur, 0}
end
if TERMINAL[cur] then return {'terminal', cur, 0} end
if from ~= '' and not in_csv(from, cur) then return {'refused', cur, 0} end
if not move_row(KEYS[1], KEYS[2], row, cur, to) then return {'refused', cur, 0} end
-- The first move since the drop started (or was approved) starts the clock of its rate and ETA,
-- with the rows already settled then (invalid ones, earlier runs) as the base.
if redis.call('HSETNX', KEYS[3], 'startedAt', now) == 1 then
  local before = num(redis.call('HGET', KEYS[2], '_terminal')) - (TERMINAL[to] and 1 or 0)
  redis.call('HSET', KEYS[3], 'startedSettled', before)
end
local hasUuid = false
local out
if patch ~= '' then
  out = merge_out(KEYS[4], row, cjson.decode(patch))
  hasUuid = out['uuid'] ~= nil
end
-- Failures by error code, so the failure brake can name the dominant one (docs/safety.md).
if BRAKE_FAILED_SET[to] then
  local code = out and out['code']
  if type(code) ~= 'string' or code == '' then code = to end
  redis.call('HINCRBY', KEYS[2], 'code:' .. code, 1)
end
local completed = 0
if TERMINAL[to] then
  if RECORD_FORGOTTEN[to] then forget_data(KEYS[5], KEYS[4], row) end
  completed = check_complete(KEYS[3], KEYS[2], KEYS[6], now)
end
local result = {'ok', cur, completed}
if hasUuid or TERMINAL[to] then release_waiters(result) end
return result
