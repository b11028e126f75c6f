-- Counts one re-activation (a row turning an inactive person active) for the deactivation guard,
-- once per row however often its job runs, and returns what the guard judges: the re-activations
-- and the deactivations since the drop was last approved, its rows and its status.
-- KEYS: meta, reactivated (set of the rows counted)
-- ARGV: row
-- Returns: { reactivations, deactivations, rows, status ('' for an unknown drop) }
if redis.call('SADD', KEYS[2], ARGV[1]) == 1 then redis.call('HINCRBY', KEYS[1], 'reactivations', 1) end
local m = redis.call('HMGET', KEYS[1], 'reactivations', 'reactivationsBase', 'deactivations', 'deactivationsBase', 'rows', 'status')
local n = function(v) return tonumber(v or '0') or 0 end
return { n(m[1]) - n(m[2]), n(m[3]) - n(m[4]), n(m[5]), m[6] or '' }
