import { TERMINAL_STATES } from './states.ts';

/**
 * Lua scripts: every ledger change is one atomic script, so a row's state, the drop counters
 * and the completion check never disagree, and a repeated call changes nothing.
 */

const terminalTable = `{${TERMINAL_STATES.map((s) => `["${s}"]=true`).join(',')}}`;
/** Terminal states whose record is no longer needed (replay only re-runs failures). */
const forgetDataTable = `{["done"]=true,["unchanged"]=true,["cancelled"]=true}`;

/**
 * A row's outcome names the person (userName, employeeNumber) only once its record is forgotten:
 * until then the record says it, and the outcome hash holds nothing for a pending row.
 */
const keepIdentity = `
local function identity_into(out, dataRaw)
  local d = cjson.decode(dataRaw)
  if out['userName'] == nil then out['userName'] = d['userName'] end
  if out['employeeNumber'] == nil then out['employeeNumber'] = d['employeeNumber'] end
  return out
end
local function forget_data(dataKey, outKey, row)
  local dataRaw = redis.call('HGET', dataKey, row)
  if not dataRaw then return end
  local outRaw = redis.call('HGET', outKey, row)
  redis.call('HSET', outKey, row, cjson.encode(identity_into(outRaw and cjson.decode(outRaw) or {}, dataRaw)))
  redis.call('HDEL', dataKey, row)
end
`;

const completionCheck = `
local function check_complete(meta, counts, emp, now)
  local status = redis.call('HGET', meta, 'status')
  local total = tonumber(redis.call('HGET', meta, 'rows') or '')
  if total == nil or status == 'ingesting' or status == 'complete' or status == 'cancelled' or status == 'rejected' then return 0 end
  local terminal = tonumber(redis.call('HGET', counts, '_terminal') or '0')
  if terminal >= total then
    redis.call('HSET', meta, 'status', 'complete', 'completedAt', now)
    redis.call('DEL', emp)
    return 1
  end
  return 0
end
`;

/**
 * KEYS: rows, counts, data, out, emp
 * ARGV: file label, then groups of 6: row, state, dataJson|'', outJson|'', employeeNumber|'', userNameKey|''
 * Records new rows (re-ingesting the same rows adds nothing). A `pending` row whose employee
 * number or (lower-cased) userName an earlier row of the drop already has is recorded `invalid`
 * instead, with a reason naming that row: duplicates are found in Redis, so the producer holds
 * nothing per row. userName keys live in the `emp` hash under "\0u:" (no employee number holds
 * a NUL) and go with it when the drop completes.
 * Returns { added, duplicate row numbers... }.
 */
export const ADD_ROWS = `
local TERMINAL = ${terminalTable}
${keepIdentity}
local file = ARGV[1]
local added = 0
local result = {0}
for i = 2, #ARGV, 6 do
  local row, state, data, out, emp, uname = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  if redis.call('HEXISTS', KEYS[1], row) == 0 then
    added = added + 1
    if state == 'pending' then
      local reasons, column = {}, nil
      local firstUser = uname ~= '' and redis.call('HGET', KEYS[5], '\\0u:' .. uname)
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
        if uname ~= '' then redis.call('HSETNX', KEYS[5], '\\0u:' .. uname, row) end
      end
    end
    redis.call('HSET', KEYS[1], row, state)
    redis.call('HINCRBY', KEYS[2], state, 1)
    if TERMINAL[state] then redis.call('HINCRBY', KEYS[2], '_terminal', 1) end
    if data ~= '' then redis.call('HSET', KEYS[3], row, data) end
    if out ~= '' then redis.call('HSET', KEYS[4], row, out) end
  end
end
result[1] = added
return result
`;

/**
 * KEYS: rows, counts, meta, out, data, emp, waiters(row)
 * ARGV: row, to, fromCsv ('' = any active state), outPatchJson ('' = none), now
 * Returns { result, previousState, dropCompleted (0|1), waiters... }
 *   result: ok | same | terminal (already terminal) | refused (not in fromCsv) | missing
 * The waiters of the row (rows waiting for its uuid) are released when the patch carries a
 * uuid or the row ends; the caller re-enqueues them.
 */
export const TRANSITION = `
local TERMINAL = ${terminalTable}
local FORGET = ${forgetDataTable}
${keepIdentity}
${completionCheck}
local row, to, from, patch, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local cur = redis.call('HGET', KEYS[1], row)
if not cur then return {'missing', '', 0} end
-- Merges the patch into the row's outcome (null removes a key); returns the merged outcome.
local function merge_outcome()
  local outRaw = redis.call('HGET', KEYS[4], row)
  local out = outRaw and cjson.decode(outRaw) or {}
  for k, v in pairs(cjson.decode(patch)) do
    if v == cjson.null then out[k] = nil else out[k] = v end
  end
  redis.call('HSET', KEYS[4], row, cjson.encode(out))
  return out
end
-- Appends the rows waiting for this row's uuid to the result and forgets them.
local function release_waiters(result)
  -- The set stays until the caller has re-enqueued them (forgetReleasedWaiters): a worker killed
  -- in between would otherwise lose them, leaving rows in manager_wait forever.
  local waiters = redis.call('SMEMBERS', KEYS[7])
  for _, w in ipairs(waiters) do table.insert(result, w) end
  return result
end
if cur == to then
  -- Same state, but a uuid may arrive now (a deferred row written at last): release its waiters.
  if patch ~= '' and merge_outcome()['uuid'] ~= nil then return release_waiters({'same', cur, 0}) end
  return {'same', cur, 0}
end
if TERMINAL[cur] then return {'terminal', cur, 0} end
if from ~= '' then
  local allowed = false
  for s in string.gmatch(from, '[^,]+') do if s == cur then allowed = true end end
  if not allowed then return {'refused', cur, 0} end
end
redis.call('HSET', KEYS[1], row, to)
redis.call('HINCRBY', KEYS[2], cur, -1)
redis.call('HINCRBY', KEYS[2], to, 1)
local hasUuid = false
if patch ~= '' then hasUuid = merge_outcome()['uuid'] ~= nil end
local completed = 0
if TERMINAL[to] then
  redis.call('HINCRBY', KEYS[2], '_terminal', 1)
  if FORGET[to] then forget_data(KEYS[5], KEYS[4], row) end
  completed = check_complete(KEYS[3], KEYS[2], KEYS[6], now)
end
local result = {'ok', cur, completed}
if hasUuid or TERMINAL[to] then release_waiters(result) end
return result
`;

/**
 * KEYS: rows, counts, waiters(targetRow), out, emp
 * ARGV: targetRow, row, absent ('1' when the look-up found no such person in Concur: recorded
 *       in the outcome, so the row is created when released without a second look-up)
 * Defers a `pending` row until its in-drop manager has a uuid, so it is written once, with the
 * manager, instead of created now and patched later. The manager may itself be deferred (a chain
 * up the org tree); every chain ends at a row that is pending, written or being written, so it
 * resolves, unless it leads back to this row: a cycle, and then the row is not deferred (it is
 * written now and linked later), so nothing waits forever.
 * Which row a deferred row waits for is kept in the drop's `emp` hash under "\0d:<row>" (no
 * employee number holds a NUL), so it goes when the drop completes.
 * Returns 1 when the row now waits in `manager_wait` (without a uuid), else 0.
 */
export const DEFER = `
local TERMINAL = ${terminalTable}
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
  t = redis.call('HGET', KEYS[5], '\\0d:' .. t)
  if not t then break end
end
redis.call('HSET', KEYS[1], row, 'manager_wait')
redis.call('HINCRBY', KEYS[2], 'pending', -1)
redis.call('HINCRBY', KEYS[2], 'manager_wait', 1)
redis.call('HSET', KEYS[5], '\\0d:' .. row, ARGV[1])
redis.call('SADD', KEYS[3], row)
if ARGV[3] == '1' then
  local outRaw = redis.call('HGET', KEYS[4], row)
  local out = outRaw and cjson.decode(outRaw) or {}
  out['absent'] = true
  redis.call('HSET', KEYS[4], row, cjson.encode(out))
end
return 1
`;

/**
 * KEYS: out, rows, waiters(targetRow)
 * ARGV: targetRow, waiterRow
 * Returns the target's uuid if it has one; '!ended' if the target ended without one;
 * '' after registering the waiter (it is released when the target gets a uuid or ends).
 */
export const WAIT_FOR = `
local TERMINAL = ${terminalTable}
local outRaw = redis.call('HGET', KEYS[1], ARGV[1])
if outRaw then
  local out = cjson.decode(outRaw)
  if out['uuid'] then return out['uuid'] end
end
local state = redis.call('HGET', KEYS[2], ARGV[1])
if (not state) or TERMINAL[state] then return '!ended' end
redis.call('SADD', KEYS[3], ARGV[2])
return ''
`;

/**
 * KEYS: meta, counts, emp
 * ARGV: rows, status (running | held), now
 * Records the row count once ingestion is over; completes a drop whose rows are all terminal.
 */
export const FINISH_INGEST = `
${completionCheck}
if redis.call('HGET', KEYS[1], 'status') ~= 'ingesting' then return {0, 0} end
redis.call('HSET', KEYS[1], 'rows', ARGV[1], 'status', ARGV[2], 'ingestedAt', ARGV[3])
return {1, check_complete(KEYS[1], KEYS[2], KEYS[3], ARGV[3])}
`;

/**
 * KEYS: meta
 * ARGV: fromCsv, to, delFieldsCsv ('' = none), field, value, field, value...
 * Moves the drop to `to` only from one of `fromCsv` (compare-and-set), setting and deleting the
 * given fields in the same step. Returns { 1|0, previous status }.
 */
export const SET_STATUS_IF = `
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {0, ''} end
local allowed = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == cur then allowed = true end end
if not allowed then return {0, cur} end
redis.call('HSET', KEYS[1], 'status', ARGV[2])
for f in string.gmatch(ARGV[3], '[^,]+') do redis.call('HDEL', KEYS[1], f) end
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return {1, cur}
`;

const failureCounters = `
local function num(v) return tonumber(v or '0') or 0 end
local function sent_and_failed(counts)
  local c = redis.call('HMGET', counts, '_terminal', 'invalid', 'cancelled', 'identity_failed', 'extension_failed', 'timed_out')
  return num(c[1]) - num(c[2]) - num(c[3]), num(c[4]) + num(c[5]) + num(c[6])
end
`;

/**
 * KEYS: meta, counts, emp
 * ARGV: fromCsv, now
 * Releases a planned, held or paused drop (approve): status running, reason cleared, and the
 * baselines of the failure brake and the conflict guard set to the current counters, so a resumed
 * drop is judged on the rows it settles from now on. Completes the drop if every row is already terminal.
 * Returns { 1|0, previous status, completed 0|1 }.
 */
export const RELEASE_DROP = `
${completionCheck}
${failureCounters}
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {0, '', 0} end
local allowed = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == cur then allowed = true end end
if not allowed then return {0, cur, 0} end
local sent, failed = sent_and_failed(KEYS[2])
local conflicts = redis.call('HGET', KEYS[1], 'conflicts') or '0'
redis.call('HSET', KEYS[1], 'status', 'running', 'approvedAt', ARGV[2], 'brakeSentBase', sent, 'brakeFailedBase', failed, 'conflictsBase', conflicts)
redis.call('HDEL', KEYS[1], 'reason')
return {1, cur, check_complete(KEYS[1], KEYS[2], KEYS[3], ARGV[2])}
`;

/**
 * KEYS: meta, counts
 * ARGV: minRows, maxFailurePercent, now
 * The mass-failure brake, O(1) from the counters: a running drop whose failed rows (since the
 * last approval) pass maxFailurePercent of the rows Concur settled, after at least minRows of
 * them, is paused with a reason. Returns the drop status after the check ('' when unknown).
 */
export const BRAKE = `
${failureCounters}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return '' end
if status ~= 'running' then return status end
local b = redis.call('HMGET', KEYS[1], 'brakeSentBase', 'brakeFailedBase')
local sent, failed = sent_and_failed(KEYS[2])
sent = sent - num(b[1])
failed = failed - num(b[2])
local minRows, maxPct = tonumber(ARGV[1]), tonumber(ARGV[2])
if sent >= minRows and sent > 0 and failed * 100 > maxPct * sent then
  local reason = string.format('%d of %d rows sent failed (%d%%, more than MAX_FAILURE_PERCENT=%s%%): check the mapping and credentials, then approve or cancel the drop', failed, sent, math.floor(failed * 100 / sent), ARGV[2])
  redis.call('HSET', KEYS[1], 'status', 'paused', 'reason', reason, 'pausedAt', ARGV[3])
  return 'paused'
end
-- A legacy employee import's error threshold (its 100 record): rows in error, the invalid ones included.
local threshold = tonumber(redis.call('HGET', KEYS[1], 'errorThreshold') or '')
if threshold and threshold > 0 then
  local errors = failed + num(redis.call('HGET', KEYS[2], 'invalid'))
  if errors > threshold then
    local reason = string.format("%d rows in error, more than the error threshold of the file's 100 record (%d): the import stops as Concur's did; approve to go on or cancel the drop", errors, threshold)
    redis.call('HSET', KEYS[1], 'status', 'paused', 'reason', reason, 'pausedAt', ARGV[3])
    return 'paused'
  end
end
return status
`;

/**
 * KEYS: rows, counts, data, out
 * ARGV: outPatchJson, row, row...
 * Ends every given row that is not terminal yet as `cancelled` (counters in the same step, the
 * record forgotten). Returns how many rows it cancelled; a repeat cancels nothing.
 */
export const CANCEL_ROWS = `
local TERMINAL = ${terminalTable}
${keepIdentity}
local patch = cjson.decode(ARGV[1])
local n = 0
for i = 2, #ARGV do
  local row = ARGV[i]
  local cur = redis.call('HGET', KEYS[1], row)
  if cur and not TERMINAL[cur] then
    redis.call('HSET', KEYS[1], row, 'cancelled')
    redis.call('HINCRBY', KEYS[2], cur, -1)
    redis.call('HINCRBY', KEYS[2], 'cancelled', 1)
    redis.call('HINCRBY', KEYS[2], '_terminal', 1)
    local outRaw = redis.call('HGET', KEYS[4], row)
    local out = outRaw and cjson.decode(outRaw) or {}
    local dataRaw = redis.call('HGET', KEYS[3], row)
    if dataRaw then
      identity_into(out, dataRaw)
      redis.call('HDEL', KEYS[3], row)
    end
    for k, v in pairs(patch) do out[k] = v end
    redis.call('HSET', KEYS[4], row, cjson.encode(out))
    n = n + 1
  end
end
return n
`;

/**
 * KEYS: rows, out, waiters(row) for each of the n rows
 * ARGV: 'list' | 'forget', n, the n rows, then (forget) the waiter rows that were re-enqueued
 * For rows whose waiters are released (the row has a uuid or ended): 'list' returns their waiters;
 * 'forget' removes from those sets only the waiters the caller re-enqueued. Never the whole set:
 * another job may have released waiters of the same row and died before re-enqueueing them, and
 * its retry must still find them. Rows still without a uuid keep their sets untouched.
 */
export const RELEASED_WAITERS = `
local TERMINAL = ${terminalTable}
local result = {}
local n = tonumber(ARGV[2])
for i = 1, n do
  local row = ARGV[i + 2]
  local outRaw = redis.call('HGET', KEYS[2], row)
  local state = redis.call('HGET', KEYS[1], row)
  local released = (state and TERMINAL[state]) or (outRaw and cjson.decode(outRaw)['uuid'] ~= nil)
  if released then
    if ARGV[1] == 'forget' then
      for j = n + 3, #ARGV, 500 do redis.call('SREM', KEYS[i + 2], unpack(ARGV, j, math.min(j + 499, #ARGV))) end
    else
      for _, w in ipairs(redis.call('SMEMBERS', KEYS[i + 2])) do table.insert(result, w) end
    end
  end
end
return result
`;
