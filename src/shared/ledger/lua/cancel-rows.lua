-- Ends every given row that is not terminal yet as `cancelled` (counters in the same step, the
-- record forgotten, the patch merged into the outcome). A repeat cancels nothing.
-- KEYS: rows, counts, data, out
-- ARGV: outPatchJson, then the rows
-- Returns: how many rows this call cancelled
local patch = cjson.decode(ARGV[1])
local n = 0
for i = 2, #ARGV do
  local row = ARGV[i]
  local cur = redis.call('HGET', KEYS[1], row)
  if cur and move_row(KEYS[1], KEYS[2], row, cur, 'cancelled') then
    forget_data(KEYS[3], KEYS[4], row)
    merge_out(KEYS[4], row, patch)
    n = n + 1
  end
end
return n
