-- When the ready list's entries were pushed (the list holds `dropId:row` only): each push appends
-- one mark `endSeq:time` (its entries are numbered up to endSeq, pushed at time) and a cut counts
-- the entries it took, so the head entry's push time is known and a partial batch can wait for its
-- first row's linger. Entries no mark accounts for (pushed by an older version) have no known time:
-- they count as due at once. An emptied list starts the count afresh.
-- KEYS: none (each function takes the keys it touches)
-- ARGV: none

-- After an RPUSH of n entries at time now.
local function mark_push(ready, marks, seq, n, now)
  if redis.call('LLEN', ready) == n then redis.call('DEL', marks, seq) end
  local pushed = redis.call('HINCRBY', seq, 'pushed', n)
  redis.call('RPUSH', marks, pushed .. ':' .. now)
end

-- After n entries were cut off the head.
local function mark_cut(ready, marks, seq, n)
  if redis.call('LLEN', ready) == 0 then
    redis.call('DEL', marks, seq)
  else
    redis.call('HINCRBY', seq, 'cut', n)
  end
end

-- The push time of the head entry; -1 when the list is empty or the time is unknown.
local function head_since(ready, marks, seq)
  local len = redis.call('LLEN', ready)
  if len == 0 then return -1 end
  local counts = redis.call('HMGET', seq, 'pushed', 'cut')
  local cut = tonumber(counts[2] or '0')
  if tonumber(counts[1] or '0') - cut ~= len then return -1 end
  while true do
    local mark = redis.call('LINDEX', marks, 0)
    if not mark then return -1 end
    local sep = string.find(mark, ':', 1, true)
    if tonumber(string.sub(mark, 1, sep - 1)) > cut then return tonumber(string.sub(mark, sep + 1)) end
    redis.call('LPOP', marks)
  end
end

