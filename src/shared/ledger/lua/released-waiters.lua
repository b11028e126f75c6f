-- For rows whose waiters are released (the row has a uuid or ended): 'list' returns their waiters;
-- 'forget' removes from those sets only the waiters the caller re-enqueued. Never the whole set:
-- another job may have released waiters of the same row and died before re-enqueueing them, and
-- its retry must still find them. Rows still without a uuid keep their sets untouched.
-- KEYS: rows, out, then waiters(row) for each of the n rows
-- ARGV: 'list' | 'forget', n, the n rows, then ('forget') the waiter rows that were re-enqueued
-- Returns: ('list') the waiter rows; ('forget') nothing
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
