"""Near-duplicates across workers: this run's LSH index in Redis, in front of the archive's.

The near-duplicate step (``pipelines/neardup.py``) looks a body's MinHash signature up in
the archive's persistent index (earlier runs; segments other workers published; its own
process) and adds it when nothing matches. Two workers meeting two copies of one story at
the same moment would both find nothing there and both archive it (the index notices at its
next publish, too late: both rows are journaled). So in a worker the index is wrapped by
:class:`RunNearIndex`: when the archive's index has no match, one Lua script (``NEAR``) looks
the signature's LSH band keys up in the run's index in Redis, verifies the candidates with
the same b-bit MinHash estimate (``pipelines.neardup.similarity``) and, if none is a copy,
adds it - atomically, so exactly one of two copies is archived.

In Redis, per run: one hash per LSH band (band key -> ids of the articles in that bucket,
16 characters each) and one hash of sketches (id -> ``num_perm`` b-bit values). If Redis
does not answer, the archive's index alone decides (and its publish records late copies).
"""

from __future__ import annotations

import logging

from crawler.distributed import agent as agent_mod
from crawler.distributed.redisio import RedisDown
from pipelines.neardup import NearDupPipeline, _shared_lock, band_keys, sketch
from pipelines.neardup_index import Match

logger = logging.getLogger(__name__)

ID_LEN = 16

# KEYS: sketches hash. ARGV: id, sketch, bytes per value, threshold, chance agreement a, ttl ms,
# band hash prefix, band keys... Returns {kept id, similarity} for a copy, else adds it and returns nil.
NEAR = """
local id, sk, width, thr, a = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local prefix, first = ARGV[7], 8
local seen, best, best_sim = {}, nil, -1
for b = first, #ARGV do
  local v = redis.call('HGET', prefix .. (b - first), ARGV[b])
  if v then
    for i = 1, #v, 16 do
      local cand = string.sub(v, i, i + 15)
      if cand ~= id and not seen[cand] then
        seen[cand] = true
        local other = redis.call('HGET', KEYS[1], cand)
        if other and #other == #sk then
          local eq = 0
          if width == 1 then
            for j = 1, #sk do if string.byte(sk, j) == string.byte(other, j) then eq = eq + 1 end end
          else
            for j = 1, #sk, width do
              if string.sub(sk, j, j + width - 1) == string.sub(other, j, j + width - 1) then eq = eq + 1 end
            end
          end
          local s = (eq / (#sk / width) - a) / (1 - a)
          if s > best_sim then best, best_sim = cand, s end
        end
      end
    end
  end
end
if best and best_sim >= thr then return {best, tostring(best_sim)} end
for b = first, #ARGV do
  local hk = prefix .. (b - first)
  local v = redis.call('HGET', hk, ARGV[b]) or ''
  local present = false
  for i = 1, #v, 16 do if string.sub(v, i, i + 15) == id then present = true; break end end
  if not present then redis.call('HSET', hk, ARGV[b], v .. id) end
  if redis.call('PTTL', hk) < 0 then redis.call('PEXPIRE', hk, ARGV[6]) end
end
redis.call('HSET', KEYS[1], id, sk)
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[6]) end
return false
"""


def near_claim(run, article_id: str, sig, params):
    """Atomically: the run's earlier copy of ``sig`` as a :class:`Match`, or None after adding it."""
    script = run.__dict__.get("_near_script")
    if script is None:
        script = run._near_script = run.client.register_script(NEAR)
    values = sketch(sig, params)
    args = [article_id, values.tobytes(), values.itemsize, params.threshold, 1.0 / (1 << params.sig_bits),
            run.ttl_ms, f"{run.rk.near}:b", *(int(k).to_bytes(4, "big") for k in band_keys(sig, params))]
    got = run.link.call(script, keys=[f"{run.rk.near}:sk"], args=args)
    if not got:
        return None
    kept, sim = got
    return Match(kept.decode() if isinstance(kept, bytes) else kept, float(sim))


class RunNearIndex:
    """The archive's near-duplicate index, with the run's index in Redis behind its lookups."""

    def __init__(self, index, agent, params):
        self.index = index
        self.agent = agent
        self.params = params
        self.unshared = 0

    def lookup(self, sig, exclude=None):
        match = self.index.lookup(sig, exclude=exclude)
        if match is not None or not exclude or len(exclude) != ID_LEN:
            return match
        try:
            return near_claim(self.agent.run, exclude, sig, self.params)
        except RedisDown:
            if not self.unshared:
                logger.warning("Redis does not answer: near-duplicates are decided by the archive's index alone "
                               "until it does")
            self.unshared += 1
            return None

    def __getattr__(self, name):
        return getattr(self.index, name)

    def __len__(self):
        return len(self.index)


class DistributedNearDupPipeline(NearDupPipeline):
    """``pipelines.neardup.NearDupPipeline`` in a worker (``scrapy worker`` puts it in its place)."""

    def open_spider(self, *args, **kwargs):
        super().open_spider(*args, **kwargs)
        with _shared_lock:
            if not isinstance(self.shared.index, RunNearIndex):
                self.shared.index = RunNearIndex(self.shared.index, agent_mod.current(), self.params)
