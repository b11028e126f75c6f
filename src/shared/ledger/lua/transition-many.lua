-- TRANSITION (transition.lua, put before this file as the function transition_one) for many rows
-- of one drop in one call: each move is checked and applied exactly as a transition of its own
-- (the transition table and `from` states, counters, completion, released waiters), in order.
-- KEYS: rows, counts, meta, out, data, emp, then waiters(row) of each move ...
-- ARGV: now, then per move: row, to, fromCsv ('' = any), outPatchJson ('' = none) ...
-- Returns: per move, TRANSITION's reply { result, previous state, drop completed (0|1), waiter rows... }
local now = ARGV[1]
local replies = {}
for i = 1, (#ARGV - 1) / 4 do
  local a = 1 + (i - 1) * 4
  replies[i] = transition_one(
    { KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[6 + i] },
    { ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], now }
  )
end
return replies
