-- Defers a `pending` row until its in-drop manager has a uuid (defer_row, in defer-row.lua).
-- KEYS: rows, counts, waiters(targetRow), out, emp
-- ARGV: targetRow, row, absent ('1' when the look-up found no such person in Concur)
-- Returns: 1 when the row now waits in `manager_wait` (without a uuid), else 0
return defer_row(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[1], ARGV[2], ARGV[3])
