-- A Bulk was accepted: its rows (still held by the batch) become extension_submitted with the
-- provision id, the provision record is written, and the batch lists it, all in one step.
-- KEYS: provisions, batches, then per drop: rows, counts, out ...
-- ARGV: batchId, provisionId, provisionJson (with the submission time), then per drop: n, the n rows ...
-- Returns: the number of rows moved
local batchId, pid = ARGV[1], ARGV[2]
local moved = 0
local a = 4
local g = 0
while a <= #ARGV do
  g = g + 1
  local rowsKey, countsKey, outKey = KEYS[2 + g * 3 - 2], KEYS[2 + g * 3 - 1], KEYS[2 + g * 3]
  local n = tonumber(ARGV[a])
  for i = 1, n do
    local row = ARGV[a + i]
    if redis.call('HGET', rowsKey, row) == 'extension_batched' and read_out(outKey, row)['batchId'] == batchId
      and move_row(rowsKey, countsKey, row, 'extension_batched', 'extension_submitted') then
      -- The batch id has served (the provision record keeps it, with the submission time): the
      -- row keeps only the provision id, which the report shows.
      merge_out(outKey, row, { provisionId = pid, batchId = cjson.null })
      moved = moved + 1
    end
  end
  a = a + n + 1
end
redis.call('HSET', KEYS[1], pid, ARGV[3])
local raw = redis.call('HGET', KEYS[2], batchId)
if raw then
  local b = cjson.decode(raw)
  local list = b['provisions']
  if type(list) ~= 'table' then list = {} end
  table.insert(list, pid)
  b['provisions'] = list
  redis.call('HSET', KEYS[2], batchId, cjson.encode(b))
end
return moved
