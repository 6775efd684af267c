"""Near-duplicates across workers: this run's index in Redis, in front of the archive's.

The near-duplicate step (``pipelines/neardup.py``) looks a body's signature up in the
archive's persistent index (earlier runs; segments other workers published; its own process)
and adds it when nothing matches. Two workers meeting two copies of one story at the same
moment would both find nothing there and both archive it (the index notices at its next
publish, too late: both rows are journaled). So in a worker the index is wrapped by
:class:`RunNearIndex`: when the archive's index has no match, one Lua script (``NEAR``) looks
the body up in the run's index in Redis and decides with the stage's own rule
(``pipelines.neardup_signature.decide``: enough of the story's sentences verbatim, or a high estimated
Jaccard) and, if no candidate is a copy, adds it - atomically, so exactly one of two copies is
archived.

Candidates are named, as in the archive's index, by the body's sentence units (and, for a body
of few units, its fallback LSH band keys: ``pipelines.neardup_signature.index_keys``), plus the MinHash
LSH bands (``Params.bands`` x ``Params.rows``). A unit key already naming ``COMMON_UNIT``
articles (site boilerplate) names no more candidates and takes no more ids, as in the archive's
index.

In Redis, per run: one hash per LSH band (band key -> ids of the articles in that bucket, 16
characters each), one hash of unit keys (unit key -> ids), one of sketches (id -> ``num_perm``
b-bit values, packed as the archive's index packs them) and one of units (id -> the words the
share counts, then the 4-byte hashes of the units it counts: the lead left out). If Redis does
not answer, the archive's index alone decides (and its publish records late copies).
"""

from __future__ import annotations

import logging

import numpy as np

from crawler.distributed import agent as agent_mod
from crawler.distributed.redisio import RedisDown
from pipelines.neardup import NearDupPipeline, _shared_lock
from pipelines.neardup_index import COMMON_UNIT, Match
from pipelines.neardup_signature import band_keys, index_keys, pack, sketch

logger = logging.getLogger(__name__)

ID_LEN = 16

# KEYS: sketches hash, units hash, unit-key hash.
# ARGV: 1 id, 2 packed b-bit sketch, 3 bits per value, 4 Jaccard threshold, 5 chance agreement a, 6 ttl ms,
# 7 band hash prefix, 8 share threshold, 9 min shared units, 10 this body's units record (words the
# share counts, 4 bytes; 4 bytes per unit it counts; then the words of each), 11 COMMON_UNIT,
# 12 number of band keys nb, 13 .. 12+nb band keys, then the unit keys. Returns {kept id, similarity}
# for a copy, else adds it and returns nil. The decision is pipelines.neardup_signature.decide's.
NEAR = """
local id, sk, bits, thr, a = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local prefix, share_at, kmin, rec = ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9]), ARGV[10]
local common, nb, first = tonumber(ARGV[11]), tonumber(ARGV[12]), 13
local function u32(s, i)
  local b1, b2, b3, b4 = string.byte(s, i, i + 3)
  return ((b1 * 256 + b2) * 256 + b3) * 256 + b4
end
-- the words of this body's counted units (a shared unit has the same words on both sides)
local qwords, q = u32(rec, 1), {}
local nq = (#rec - 4) / 8
for i = 0, nq - 1 do q[string.sub(rec, 5 + i * 4, 8 + i * 4)] = u32(rec, 5 + nq * 4 + i * 4) end
-- packed b-bit sketches: for each XOR-ed byte, how many of its b-bit values differ
local differ, mask = {}, 2 ^ bits - 1
for x = 0, 255 do
  local n, v = 0, x
  while v > 0 do
    if v % (mask + 1) ~= 0 then n = n + 1 end
    v = math.floor(v / (mask + 1))
  end
  differ[x] = n
end
local qb, nperm = {string.byte(sk, 1, -1)}, #sk * 8 / bits
local cands, seen = {}, {}
local function collect(v)
  for i = 1, #v, 16 do
    local c = string.sub(v, i, i + 15)
    if c ~= id and not seen[c] then seen[c] = true; cands[#cands + 1] = c end
  end
end
for b = first, first + nb - 1 do
  local v = redis.call('HGET', prefix .. (b - first), ARGV[b])
  if v then collect(v) end
end
for u = first + nb, #ARGV do
  local v = redis.call('HGET', KEYS[3], ARGV[u])
  if v and #v < common * 16 then collect(v) end
end
local best, best_score = nil, -1
for _, cand in ipairs(cands) do
  local j = 0
  local other = redis.call('HGET', KEYS[1], cand)
  if other and #other == #sk then
    local ob, d = {string.byte(other, 1, -1)}, 0
    for x = 1, #qb do d = d + differ[bit.bxor(qb[x], ob[x])] end
    j = math.min(1, math.max(0, ((1 - d / nperm) - a) / (1 - a)))
  end
  local s, k = 0, 0
  local cu = redis.call('HGET', KEYS[2], cand)
  if cu and #cu >= 4 then
    local words = 0
    for x = 5, #cu, 4 do
      local w = q[string.sub(cu, x, x + 3)]
      if w then words = words + w; k = k + 1 end
    end
    s = math.min(1, words / math.max(qwords, u32(cu, 1), 1))
  end
  if (s >= share_at and k >= kmin) or j >= thr then
    local score = j
    if k >= kmin and s > score then score = s end
    if score > best_score then best, best_score = cand, score end
  end
end
if best then return {best, tostring(best_score)} end
local function post(hk, key, capped)
  local v = redis.call('HGET', hk, key) or ''
  if capped and #v >= common * 16 then return end
  for i = 1, #v, 16 do if string.sub(v, i, i + 15) == id then return end end
  redis.call('HSET', hk, key, v .. id)
  if redis.call('PTTL', hk) < 0 then redis.call('PEXPIRE', hk, ARGV[6]) end
end
for b = first, first + nb - 1 do post(prefix .. (b - first), ARGV[b], false) end
for u = first + nb, #ARGV do post(KEYS[3], ARGV[u], true) end
redis.call('HSET', KEYS[1], id, sk)
redis.call('HSET', KEYS[2], id, string.sub(rec, 1, 4 + nq * 4))
for i = 1, 2 do if redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], ARGV[6]) end end
return false
"""


def units_record(sig, params) -> bytes:
    """What ``NEAR`` is given of a body's units: the words the share counts (4 bytes), the hashes
    of the units it counts (the lead left out; this much is stored), then their words."""
    hashes = sig.unit_hashes[params.lead:].astype(">u4")
    words = sig.unit_words[params.lead:].astype(">u4")
    return int(words.sum()).to_bytes(4, "big") + hashes.tobytes() + words.tobytes()


def near_claim(run, article_id: str, sig, params):
    """Atomically: the run's earlier copy of ``sig`` as a :class:`Match`, or None after adding it."""
    script = run.__dict__.get("_near_script")
    if script is None:
        script = run._near_script = run.client.register_script(NEAR)
    packed = pack(sketch(sig, params), params)
    bands = [int(k).to_bytes(4, "big") for k in band_keys(sig, params)]
    unit_keys = np.unique(index_keys(sig, params)).astype(">u4")
    args = [article_id, packed.tobytes(), params.sig_bits, params.threshold, 1.0 / (1 << params.sig_bits),
            run.ttl_ms, f"{run.rk.near}:b", params.share, params.min_shared_units, units_record(sig, params),
            COMMON_UNIT, len(bands), *bands, *(k.tobytes() for k in unit_keys)]
    got = run.link.call(script, keys=[f"{run.rk.near}:sk", f"{run.rk.near}:un", f"{run.rk.near}:u"], args=args)
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
