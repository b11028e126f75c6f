-- An extension batch claims its rows: identity_done -> extension_batched, the batch id in the
-- outcome. A row this batch claimed already stays claimed (a retried batch); a row another batch
-- holds, or one that moved on, is not this batch's.
-- KEYS: per drop: rows, counts, out (3 keys each, in group order) ...
-- ARGV: batchId, then per drop: n, the n rows ...
-- Returns: the rows the batch holds, as 'group:row' (group: 1-based index of the drop)
local batchId = ARGV[1]
local held = {}
local a = 2
local g = 0
while a <= #ARGV do
  g = g + 1
  local rowsKey, countsKey, outKey = KEYS[g * 3 - 2], KEYS[g * 3 - 1], KEYS[g * 3]
  local n = tonumber(ARGV[a])
  for i = 1, n do
    local row = ARGV[a + i]
    local state = redis.call('HGET', rowsKey, row)
    if state == 'identity_done' and move_row(rowsKey, countsKey, row, state, 'extension_batched') then
      merge_out(outKey, row, { batchId = batchId })
      table.insert(held, g .. ':' .. row)
    elseif state == 'extension_batched' and read_out(outKey, row)['batchId'] == batchId then
      table.insert(held, g .. ':' .. row)
    end
  end
  a = a + n + 1
end
return held
