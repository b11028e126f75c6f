-- A flush: bumps the flush generation, then cuts up to maxBatches batches of up to maxOps entries
-- off the head of the ready list, recording each batch and listing it as unsent. A batch of fewer
-- than maxOps is cut only when fullOnly is off and its first entry is due: pushed at or before
-- cutBefore (empty: every entry is due), or at an unknown time.
-- KEYS: ready, flushGen, batchSeq, batches, unsent, readyMarks, readySeq
-- ARGV: maxOps, maxBatches, fullOnly (0|1: only batches of maxOps), now, cutBefore (epoch ms or '')
-- Returns: { generation, entries left in the list, push time of the head entry left and of the head
--   entry before the cut (-1: none or unknown), batchId1, entriesCsv1, batchId2, entriesCsv2, ... }
local maxOps, maxBatches, fullOnly, now = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3] == '1', ARGV[4]
local cutBefore = tonumber(ARGV[5])
local gen = redis.call('INCR', KEYS[2])
local out = { gen, 0, -1, head_since(KEYS[1], KEYS[6], KEYS[7]) }
for i = 1, maxBatches do
  local len = redis.call('LLEN', KEYS[1])
  if len == 0 then break end
  if len < maxOps then
    if fullOnly then break end
    if cutBefore ~= nil and head_since(KEYS[1], KEYS[6], KEYS[7]) > cutBefore then break end
  end
  local entries = redis.call('LRANGE', KEYS[1], 0, maxOps - 1)
  redis.call('LTRIM', KEYS[1], #entries, -1)
  mark_cut(KEYS[1], KEYS[6], KEYS[7], #entries)
  local batchId = 'b' .. redis.call('INCR', KEYS[3])
  redis.call('HSET', KEYS[4], batchId, cjson.encode({ entries = entries, createdAt = tonumber(now), provisions = {} }))
  redis.call('ZADD', KEYS[5], now, batchId)
  table.insert(out, batchId)
  table.insert(out, table.concat(entries, ','))
end
out[2] = redis.call('LLEN', KEYS[1])
out[3] = head_since(KEYS[1], KEYS[6], KEYS[7])
return out
