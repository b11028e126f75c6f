-- DEFER (defer.lua, put before this file as the function defer_one) for many `pending` rows of a
-- chunk in one call: each row is deferred exactly as by a call of its own, in order; one round trip
-- for the chunk instead of one per row.
-- KEYS: rows, counts, out, emp, then waiters(targetRow) of each deferral ...
-- ARGV: per deferral: targetRow, row, absent ('1' or '0') ...
-- Returns: per deferral, 1 when the row now waits in `manager_wait`, else 0
local answers = {}
for i = 1, #KEYS - 4 do
  local a = (i - 1) * 3
  answers[i] = defer_one(
    { KEYS[1], KEYS[2], KEYS[4 + i], KEYS[3], KEYS[4] },
    { ARGV[a + 1], ARGV[a + 2], ARGV[a + 3] }
  )
end
return answers
