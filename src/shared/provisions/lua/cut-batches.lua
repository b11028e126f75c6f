-- A flush: bumps the flush generation, then cuts up to maxBatches batches of up to maxOps entries
-- off the head of the ready list, recording each batch and listing it as unsent.
-- KEYS: ready, flushGen, batchSeq, batches, unsent
-- ARGV: maxOps, maxBatches, fullOnly (0|1: only batches of maxOps), now
-- Returns: { generation, entries left in the list, batchId1, entriesCsv1, batchId2, entriesCsv2, ... }
local maxOps, maxBatches, fullOnly, now = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3] == '1', ARGV[4]
local gen = redis.call('INCR', KEYS[2])
local out = { gen, 0 }
for i = 1, maxBatches do
  local len = redis.call('LLEN', KEYS[1])
  if len == 0 or (fullOnly and len < maxOps) then break end
  local entries = redis.call('LRANGE', KEYS[1], 0, maxOps - 1)
  redis.call('LTRIM', KEYS[1], #entries, -1)
  local batchId = 'b' .. redis.call('INCR', KEYS[3])
  redis.call('HSET', KEYS[4], batchId, cjson.encode({ entries = entries, createdAt = tonumber(now), provisions = {} }))
  redis.call('ZADD', KEYS[5], now, batchId)
  table.insert(out, batchId)
  table.insert(out, table.concat(entries, ','))
end
out[2] = redis.call('LLEN', KEYS[1])
return out
