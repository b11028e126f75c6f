-- Approves a planned, held or paused drop (or a running one again): status running, reason
-- cleared, and the baselines of the failure brake, the conflict guard and the deactivation guard
-- (deactivations, re-activations) set to the current counters, so an approved drop is judged on
-- the rows it settles from now on. Completes the drop
-- when every row is terminal already.
-- KEYS: meta, counts, emp
-- ARGV: fromCsv, now
-- Returns: { changed 1|0, previous status ('' for an unknown drop), completed 0|1 }
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {0, '', 0} end
if not in_csv(ARGV[1], cur) then return {0, cur, 0} end
local sent, failed = sent_and_failed(KEYS[2])
local conflicts = redis.call('HGET', KEYS[1], 'conflicts') or '0'
local deactivations = redis.call('HGET', KEYS[1], 'deactivations') or '0'
local reactivations = redis.call('HGET', KEYS[1], 'reactivations') or '0'
redis.call('HSET', KEYS[1], 'status', 'running', 'approvedAt', ARGV[2], 'brakeSentBase', sent, 'brakeFailedBase', failed,
  'conflictsBase', conflicts, 'deactivationsBase', deactivations, 'reactivationsBase', reactivations)
redis.call('HDEL', KEYS[1], 'reason')
return {1, cur, check_complete(KEYS[1], KEYS[2], KEYS[3], ARGV[2])}
