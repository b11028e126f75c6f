-- Records the row count once ingestion is over and the drop's next status; completes a drop whose
-- rows are all terminal already.
-- KEYS: meta, counts, emp
-- ARGV: rows, status (running | held | planned), now
-- Returns: { changed 0|1, completed 0|1 }
if redis.call('HGET', KEYS[1], 'status') ~= 'ingesting' then return {0, 0} end
redis.call('HSET', KEYS[1], 'rows', ARGV[1], 'status', ARGV[2], 'ingestedAt', ARGV[3])
return {1, check_complete(KEYS[1], KEYS[2], KEYS[3], ARGV[3])}
