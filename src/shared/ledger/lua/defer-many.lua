-- Defers many `pending` rows of a chunk, each as defer.lua would (defer_row, in defer-row.lua), in
-- one call: one round trip for the chunk instead of one per row.
-- KEYS: rows, counts, out, emp, waiters(targetRow) of each deferral in order...
-- ARGV: targetRow, row, absent ('1' or '0') of each deferral in order
-- Returns: per deferral, 1 when the row now waits in `manager_wait`, else 0
local answers = {}
for i = 1, #KEYS - 4 do
  local a = (i - 1) * 3
  answers[i] = defer_row(KEYS[1], KEYS[2], KEYS[4 + i], KEYS[3], KEYS[4], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3])
end
return answers
