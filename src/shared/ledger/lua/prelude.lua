-- The ledger's prelude: put before every ledger script, after the tables rendered from states.ts
-- (TERMINAL, MOVES, RECORD_FORGOTTEN, FINISHED_STATUS, NEVER_SENT, BRAKE_FAILED, BRAKE_FAILED_SET,
-- BRAKE_ADVICE). Every change of
-- a row's state goes through move_row, which refuses a move the transition table does not list.
-- KEYS: none (each function takes the keys it touches)
-- ARGV: none

local function num(v) return tonumber(v or '0') or 0 end

-- Whether a comma-separated list names the value.
local function in_csv(csv, value)
  for s in string.gmatch(csv, '[^,]+') do
    if s == value then return true end
  end
  return false
end

-- A row's outcome as a table ({} when it has none).
local function read_out(outKey, row)
  local raw = redis.call('HGET', outKey, row)
  return raw and cjson.decode(raw) or {}
end

-- Merges a patch into the row's outcome (cjson.null removes a key); returns the merged outcome.
local function merge_out(outKey, row, patch)
  local o = read_out(outKey, row)
  for k, v in pairs(patch) do
    if v == cjson.null then o[k] = nil else o[k] = v end
  end
  redis.call('HSET', outKey, row, cjson.encode(o))
  return o
end

-- A row's outcome names the person (userName, employeeNumber) only once its record is forgotten:
-- until then the record says it, and the outcome hash holds nothing for a pending row.
local function identity_into(out, dataRaw)
  local d = cjson.decode(dataRaw)
  if out['userName'] == nil then out['userName'] = d['userName'] end
  if out['employeeNumber'] == nil then out['employeeNumber'] = d['employeeNumber'] end
  return out
end

-- Forgets the row's record, keeping the person's name in its outcome.
local function forget_data(dataKey, outKey, row)
  local dataRaw = redis.call('HGET', dataKey, row)
  if not dataRaw then return end
  redis.call('HSET', outKey, row, cjson.encode(identity_into(read_out(outKey, row), dataRaw)))
  redis.call('HDEL', dataKey, row)
end

-- Moves a row from `cur` to `to` when the transition table allows it: its state and the drop's
-- counters in one step. Returns false, changing nothing, for any other move.
local function move_row(rowsKey, countsKey, row, cur, to)
  local allowed = MOVES[cur]
  if not (allowed and allowed[to]) then return false end
  redis.call('HSET', rowsKey, row, to)
  redis.call('HINCRBY', countsKey, cur, -1)
  redis.call('HINCRBY', countsKey, to, 1)
  if TERMINAL[to] then redis.call('HINCRBY', countsKey, '_terminal', 1) end
  return true
end

-- Completes a running (or held, paused, planned) drop whose rows are all terminal; forgets its
-- in-drop references. Returns 1 when this call completed it.
local function check_complete(meta, counts, emp, now)
  local status = redis.call('HGET', meta, 'status')
  local total = tonumber(redis.call('HGET', meta, 'rows') or '')
  if total == nil or status == 'ingesting' or FINISHED_STATUS[status] then return 0 end
  if num(redis.call('HGET', counts, '_terminal')) >= total then
    redis.call('HSET', meta, 'status', 'complete', 'completedAt', now)
    redis.call('DEL', emp)
    return 1
  end
  return 0
end

-- The sum of the drop's counters of these states.
local function sum_counts(counts, states)
  local n = 0
  for _, v in ipairs(redis.call('HMGET', counts, unpack(states))) do n = n + num(v) end
  return n
end

-- What the failure brake judges: the rows settled after being sent, and the failed ones among them.
local function sent_and_failed(counts)
  return num(redis.call('HGET', counts, '_terminal')) - sum_counts(counts, NEVER_SENT), sum_counts(counts, BRAKE_FAILED)
end

