-- The failure brake, O(1) from the counters: a running drop whose failed rows (since the last
-- approval) pass maxFailurePercent of the rows Concur settled, after at least minRows of them, is
-- paused with a reason naming the dominant error code and what to check. So is a legacy employee import past its 100 record's error threshold.
-- KEYS: meta, counts
-- ARGV: minRows, maxFailurePercent, now
-- Returns: the drop's status after the check ('' for an unknown drop)
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return '' end
if status ~= 'running' then return status end
local b = redis.call('HMGET', KEYS[1], 'brakeSentBase', 'brakeFailedBase')
local sent, failed = sent_and_failed(KEYS[2])
sent = sent - num(b[1])
failed = failed - num(b[2])
local minRows, maxPct = tonumber(ARGV[1]), tonumber(ARGV[2])
if sent >= minRows and sent > 0 and failed * 100 > maxPct * sent then
  -- The error code most failed rows carry (counted by transition.lua) decides what to check.
  local top, topN = nil, 0
  local all = redis.call('HGETALL', KEYS[2])
  for i = 1, #all, 2 do
    local field, n = all[i], tonumber(all[i + 1]) or 0
    if string.sub(field, 1, 5) == 'code:' and (n > topN or (n == topN and top ~= nil and string.sub(field, 6) < top)) then
      top, topN = string.sub(field, 6), n
    end
  end
  local reason = string.format('%d of %d rows sent failed (%d%%, more than MAX_FAILURE_PERCENT=%s%%)', failed, sent, math.floor(failed * 100 / sent), ARGV[2])
  if top then
    reason = reason .. ', most with ' .. top .. ' (' .. topN .. '): ' .. (BRAKE_ADVICE[top] or BRAKE_ADVICE_DEFAULT)
  else
    reason = reason .. ': ' .. BRAKE_ADVICE_DEFAULT
  end
  reason = reason .. '; then approve or cancel the drop'
  redis.call('HSET', KEYS[1], 'status', 'paused', 'reason', reason, 'pausedAt', ARGV[3], 'brakeCode', top or '')
  return 'paused'
end
-- A legacy employee import's error threshold (its 100 record): rows in error, the invalid ones included.
local threshold = tonumber(redis.call('HGET', KEYS[1], 'errorThreshold') or '')
if threshold and threshold > 0 then
  local errors = failed + num(redis.call('HGET', KEYS[2], 'invalid'))
  if errors > threshold then
    local reason = string.format("%d rows in error, more than the error threshold of the file's 100 record (%d): the import stops as Concur's did; approve to go on or cancel the drop", errors, threshold)
    redis.call('HSET', KEYS[1], 'status', 'paused', 'reason', reason, 'pausedAt', ARGV[3])
    return 'paused'
  end
end
return status
