"""Distributed mode, piece by piece, against a real Redis: the leased queue (pop, ack, dead
worker's requests handed back), the claims and near-duplicate index under races, the request
serializer, and the memory of the request filter (bytes per URL, with MEMORY USAGE)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections import Counter

import pytest
import scrapy
from scrapy.utils.request import RequestFingerprinter

from crawler.distributed import serialize
from crawler.distributed.config import Config, ConfigError
from crawler.distributed.frontier import BucketedFilter, LeasedQueue
from crawler.distributed.keys import Keys
from crawler.distributed.redisio import Link, RedisDown, Scripts, connect
from crawler.distributed.runstate import RunState
from crawler.sources.base import Listing
from tests.test_distributed import redis_server  # noqa: F401  (the fixture)

pytestmark = pytest.mark.xdist_group("distributed")


class Spider(scrapy.Spider):
    name = "demo_kinhte"

    def parse_listing(self, response):
        pass

    def failed(self, failure):
        pass


def world(redis_server, **overrides):
    config = Config(redis_url=redis_server.url, prefix="t" + uuid.uuid4().hex[:8], **overrides)
    client = connect(config)
    link = Link(client)
    scripts = Scripts(client)
    keys = Keys(config.prefix)
    state = RunState(link, scripts, keys, "20261126T000000Z-" + uuid.uuid4().hex[:6], config)
    return config, client, link, scripts, keys, state


def queue_for(state, client, link, scripts, worker, spider=None):
    spider = spider or Spider()
    return LeasedQueue(client, spider, state.rk.queue(spider.name), serialize, link=link, scripts=scripts,
                       run_keys=state.rk, worker=worker)


def beat(client, keys, worker, ttl_ms=10_000):
    client.set(keys.heartbeat(worker), "{}", px=ttl_ms)


# ---------------------------------------------------------------------- requests in Redis
def test_requests_travel_as_json_with_listings_bytes_and_retry_times():
    spider = Spider()
    listing = Listing("http://x/list", article_links="h3 a", next_page="a.next", max_pages=7)
    request = scrapy.Request("http://x/list?page=2", callback=spider.parse_listing, errback=spider.failed,
                             headers={"X-A": "b"}, priority=-1,
                             meta={"listing": listing, "page": 2, "pair": (1, "a"), "hints": {"title": None},
                                   "retry_not_before": time.monotonic() + 30})

    class FakeClient:
        pass

    q = LeasedQueue(FakeClient(), spider, "k", serialize, link=None, scripts=None,
                    run_keys=Keys("p").run("r"), worker="w")
    data = q._encode_request(request)
    json.loads(data[8:])  # JSON after 8 bytes of order, no pickle
    back = q._decode_request(data)
    assert back.url == request.url and back.priority == -1 and back.headers[b"X-A"] == b"b"
    assert back.callback == spider.parse_listing and back.errback == spider.failed
    assert back.meta["listing"] == listing and back.meta["pair"] == (1, "a") and back.meta["page"] == 2
    # the retry time is this machine's monotonic clock again, about 30 s ahead
    assert 29 < back.meta["retry_not_before"] - time.monotonic() <= 30.5
    # newer pushes sort first among equal priorities
    assert q._encode_request(request)[:8] < data[:8]


def test_serializer_refuses_what_could_run_code():
    with pytest.raises(serialize.NotSerializable, match=r"request\.meta\.obj"):
        serialize.dumps({"meta": {"obj": object()}})
    bad = json.dumps({"url": "http://x", "_class": "os.system"}).encode()
    with pytest.raises(ValueError, match="refusing request class"):
        serialize.loads(bad)
    bad = json.dumps({"meta": {"\x00d": "subprocess:Popen", "f": {}}}).encode()
    with pytest.raises(ValueError, match="refusing"):
        serialize.loads(bad)


def test_settings_are_checked_and_named():
    from scrapy.settings import Settings

    with pytest.raises(ConfigError, match="REDIS_URL"):
        Config.from_settings(Settings({"DISTRIBUTED": "1"}))
    with pytest.raises(ConfigError, match="DISTRIBUTED_LEASE_TTL"):
        Config.from_settings(Settings({"DISTRIBUTED": "1", "REDIS_URL": "redis://h", "DISTRIBUTED_LEASE_TTL": "x"}))
    config = Config.from_settings(Settings({"DISTRIBUTED": "1", "REDIS_URL": "redis://u:secret@h:6379/0"}))
    assert "secret" not in config.display_url


# ---------------------------------------------------------------------- leases
def test_a_dead_workers_leases_go_back_and_the_run_is_drained_only_when_all_is_done(redis_server):
    config, client, link, scripts, keys, state = world(redis_server)
    state.create({"state": "running"})
    a, b = queue_for(state, client, link, scripts, "A"), queue_for(state, client, link, scripts, "B")
    for i in range(5):
        a.push(scrapy.Request(f"http://x/{i}", callback=Spider().parse_listing))
    state.join("A", ["demo_kinhte"], {}, 10)
    state.join("B", ["demo_kinhte"], {}, 10)
    taken_a = [a.pop_leased() for _ in range(2)]
    taken_b = b.pop_leased()
    assert len(a) == 2 and client.hlen(state.rk.lease("A")) == 2
    # newest first: the last pushed request came out first
    assert taken_a[0][0].url == "http://x/4" and taken_a[1][0].url == "http://x/3"
    q = state.quiesce(["demo_kinhte"])
    assert not q["drained"] and q["leased"] == 3 and q["live"] == 2
    client.delete(keys.heartbeat("A"))  # A dies (its heartbeat expires)
    q = state.quiesce(["demo_kinhte"])
    assert q["dead"] == ["A"] and q["reaped"] == 2 and q["queued"] == 4
    assert state.dead() == {"A": 2} and state.workers() == ["B"]
    urls = {b.pop_leased()[0].url for _ in range(4)}
    assert urls == {"http://x/0", "http://x/1", "http://x/3", "http://x/4"}
    b.ack([f for f in client.hkeys(state.rk.lease("B"))])
    assert not state.quiesce(["demo_kinhte"])["drained"]  # B's crawler has not said it is idle
    state.mark_idle("B", "demo_kinhte")
    assert state.quiesce(["demo_kinhte"])["drained"]
    # a worker taken for dead that leases again is watched again
    a.push(scrapy.Request("http://x/late", callback=Spider().parse_listing))
    beat(client, keys, "A")
    assert a.pop_leased() is not None and "A" in state.workers()
    assert not state.quiesce(["demo_kinhte"])["drained"]
    assert taken_b is not None


def test_a_found_url_whose_finder_died_before_queueing_it_is_taken_over(redis_server):
    config, client, link, scripts, keys, state = world(redis_server)
    for w in ("A", "B"):
        beat(client, keys, w)
    assert state.first_find("demo_kinhte", "00000000000000a1", "A") is True
    # while A lives its find holds, for B and for A itself
    assert state.first_find("demo_kinhte", "00000000000000a1", "B") is False
    assert state.first_find("demo_kinhte", "00000000000000a1", "A") is False
    assert state.found_table("demo_kinhte") == (1, Counter())  # found, no outcome yet
    # A dies between its find and queueing the request: B, reading the page again, takes it over
    client.delete(keys.heartbeat("A"))
    assert state.first_find("demo_kinhte", "00000000000000a1", "B") is True
    assert state.first_find("demo_kinhte", "00000000000000a1", "C") is False  # B lives
    state.outcome("demo_kinhte", "00000000000000a1", "archived")
    state.outcome("demo_kinhte", "00000000000000a1", "http_404")  # the first outcome stays
    # once it has an outcome nobody finds it again, whoever died
    client.delete(keys.heartbeat("B"))
    assert state.first_find("demo_kinhte", "00000000000000a1", "C") is False
    assert state.found_table("demo_kinhte") == (1, Counter({"archived": 1}))
    # the coordinator's finds (no worker) are never taken over: it queues them at once
    assert state.first_find("demo_kinhte", "00000000000000b2") is True
    assert state.first_find("demo_kinhte", "00000000000000b2", "C") is False
    assert state.found_table("demo_kinhte") == (2, Counter({"archived": 1}))


def test_a_closing_crawler_hands_its_unfinished_requests_back(redis_server):
    config, client, link, scripts, keys, state = world(redis_server)
    q = queue_for(state, client, link, scripts, "A")
    for i in range(3):
        q.push(scrapy.Request(f"http://x/{i}", callback=Spider().parse_listing, priority=i))
    fields = [q.pop_leased()[1] for _ in range(2)]
    assert q.requeue(fields) == 2 and len(q) == 3 and client.hlen(state.rk.lease("A")) == 0
    assert q.pop_leased()[0].url == "http://x/2"  # priority kept


def test_redis_down_is_a_quick_failure_not_a_hang():
    config = Config(redis_url="redis://127.0.0.1:1/0", lease_ttl=3)
    link = Link(connect(config), retry_after=60)
    started = time.monotonic()
    with pytest.raises(RedisDown):
        link.call(link.client.ping)
    with pytest.raises(RedisDown):  # the breaker answers at once now
        link.call(link.client.ping)
    assert time.monotonic() - started < 3 and not link.up


# ---------------------------------------------------------------------- claims
def test_two_workers_with_two_copies_at_the_same_moment_archive_it_once(redis_server):
    config, client, link, scripts, keys, state = world(redis_server)
    workers = [f"W{i}" for i in range(8)]
    for w in workers:
        beat(client, keys, w)
    results = {}
    barrier = threading.Barrier(len(workers))

    def claim(i, w):
        s = RunState(Link(connect(config)), Scripts(connect(config)), keys, state.run_id, config)
        barrier.wait()
        results[w] = s.claim(f"{i:016x}", "same-text", w)  # 8 URLs, one text

    threads = [threading.Thread(target=claim, args=(i, w)) for i, w in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    new = [w for w, (status, _) in results.items() if status == "new"]
    assert len(new) == 1
    winner_id = f"{workers.index(new[0]):016x}"
    assert all(r == ("exact", winner_id) for w, r in results.items() if w != new[0])
    # the same URL again is a url duplicate, also for the winner itself
    assert state.claim(winner_id, "other-text", new[0]) == ("url", winner_id)
    # a claim of a worker that died is taken over: its request is fetched again elsewhere
    client.delete(keys.heartbeat(new[0]))
    assert state.claim(winner_id, "same-text", "W9") == ("new", None)


def test_near_copies_met_by_two_workers_at_once_are_archived_once(redis_server):
    from crawler.distributed.neardup import near_claim
    from pipelines.neardup_signature import DEFAULT, signature

    config, client, link, scripts, keys, state = world(redis_server)
    words = [f"từ{i} ngữ{i % 7} câu{i % 13} bình dương" for i in range(120)]
    story = "\n\n".join(" ".join(words[i:i + 12]) + "." for i in range(0, 120, 12))
    copy = story.replace("từ5 ", "từ năm ").replace("câu3 ", "câu ba ") + "\n\nẢnh: TTXVN"
    other = "\n\n".join(" ".join(reversed(words[i:i + 12])) + " khác." for i in range(0, 120, 12))
    sigs = {"a" * 16: signature(story), "b" * 16: signature(copy)}
    results = {}
    barrier = threading.Barrier(2)

    def go(aid):
        s = RunState(Link(connect(config)), Scripts(connect(config)), keys, state.run_id, config)
        barrier.wait()
        results[aid] = near_claim(s, aid, sigs[aid], DEFAULT)

    threads = [threading.Thread(target=go, args=(aid,)) for aid in sigs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    kept = [aid for aid, m in results.items() if m is None]
    assert len(kept) == 1
    match = next(m for m in results.values() if m is not None)
    assert match.article_id == kept[0] and match.similarity >= DEFAULT.threshold
    assert near_claim(state, "c" * 16, signature(other), DEFAULT) is None  # another story
    assert near_claim(state, kept[0], sigs[kept[0]], DEFAULT) is None  # itself, fetched again


def test_a_copy_only_the_sentence_share_catches_is_caught_across_workers(redis_server):
    """Most of the story's sentences verbatim around rewritten ones: the estimated Jaccard is under
    its threshold, the sentence share over its own; the run's index in Redis applies both."""
    from crawler.distributed.neardup import near_claim
    from pipelines.neardup_signature import DEFAULT, sketch, share, signature, similarity

    config, client, link, scripts, keys, state = world(redis_server)
    sentences = [f"Tỉnh Bình Dương năm {2000 + i} thu hút {i * 7} dự án vốn đầu tư nước ngoài vào khu công "
                 f"nghiệp số {i} với tổng vốn {i * 13} triệu đô la" for i in range(12)]
    story = "\n\n".join(s + "." for s in sentences)
    rewritten = [f"Theo báo cáo quý {i}, doanh nghiệp địa phương {i * 3} đã ký hợp đồng mới trị giá {i * 11} tỷ "
                 f"đồng" for i in range(5)]
    copy = "\n\n".join(s + "." for s in ["Lead viết lại hoàn toàn cho trang khác.", *sentences[1:8], *rewritten])
    a, b = signature(story), signature(copy)
    s_ab, k_ab = share(a, b)
    j_ab = float(similarity(sketch(b), sketch(a)[None, :])[0])
    assert s_ab >= DEFAULT.share and k_ab >= DEFAULT.min_shared_units and j_ab < DEFAULT.threshold, (s_ab, j_ab)
    assert near_claim(state, "a" * 16, a, DEFAULT) is None
    match = near_claim(state, "b" * 16, b, DEFAULT)
    assert match is not None and match.article_id == "a" * 16 and match.similarity == pytest.approx(s_ab)


def test_the_run_index_in_redis_decides_as_the_archive_index_on_real_text(redis_server):
    """The real bodies (vn-same-story, gold bodies, fundus) then syndicated copies of them, one by one
    through the archive's index (pipelines/neardup_index.py) and the run's index in Redis: the same
    decision for every article - the same kept article, the same similarity."""
    from benchmarks.neardup_corpus import load_fundus, load_gold, load_same_story, positives
    from crawler.distributed.neardup import near_claim
    from pipelines import neardup_signature as nd
    from pipelines.neardup_index import NearDupIndex
    from tests.shared import shared_data

    ss = load_same_story(shared_data("vn-same-story", "clusters"))
    gold = load_gold(shared_data("vn-pages", "gold-bodies.jsonl"))
    fundus = load_fundus(shared_data("fundus-pages", "pairs.jsonl").parents[1])
    bodies = [(d.id, d.body) for d in ss + gold] + fundus
    assert len(bodies) == 628 + 10 + 257  # the sets test_neardup_real.py checks
    copies = positives(ss + gold)[::3]
    config, client, link, scripts, keys, state = world(redis_server)
    index = NearDupIndex(None, nd.DEFAULT)
    seq = bodies + [(f"copy{n}", body) for n, (_, _, body) in enumerate(copies)]
    decided, differ, copies_found = 0, [], 0
    for name, body in seq:
        aid = hashlib.blake2b(name.encode(), digest_size=8).hexdigest()
        sig = nd.signature(body)
        if sig.shingles < nd.DEFAULT.min_shingles:
            continue
        archive_side = index.lookup(sig, exclude=aid)
        if archive_side is None:
            index.add(aid, sig)
        run_side = near_claim(state, aid, sig, nd.DEFAULT)
        want = archive_side and (archive_side.article_id, round(archive_side.similarity, 9))
        got = run_side and (run_side.article_id, round(run_side.similarity, 9))
        if want != got:
            differ.append((name, want, got))
        decided += 1
        copies_found += name.startswith("copy") and got is not None
    assert decided > 2500 and not differ, differ[:5]
    assert copies_found >= 0.98 * len(copies)


def test_site_paces_in_redis_are_shared_by_workers(redis_server):
    from types import SimpleNamespace

    from crawler.distributed.pacing import RedisPace

    config, client, link, scripts, keys, state = world(redis_server)
    stats = SimpleNamespace(inc_value=lambda *a, **k: None)
    workers = [RedisPace(SimpleNamespace(link=Link(connect(config)), config=config, client=connect(config)), stats)
               for _ in range(3)]
    waits = [workers[i % 3].reserve("a.example", 0.5) for i in range(6)]
    assert waits[0] == 0.0
    # one pace for the three: 0.5 s apart whoever asks (Redis's clock, ms; a few ms pass between calls)
    assert all(abs(w - 0.5 * i) < 0.05 for i, w in enumerate(waits)), waits
    assert workers[1].reserve("b.example", 0.5) == 0.0
    assert workers[2].pause("b.example", 30)  # one worker is told Retry-After: 30
    assert 29.9 < workers[0].reserve("b.example", 0.5) <= 30.0  # another waits as long
    assert 0 < client.pttl(f"{config.prefix}:pace:b.example") <= 30_000 + 500 + 60_000


# ---------------------------------------------------------------------- the filter's memory
def test_request_filter_memory_per_url_is_bounded_and_expires(redis_server):
    """~21 B per URL in bucketed listpacks vs ~88 B in scrapy-redis's set of hex fingerprints."""
    from scrapy_redis.dupefilter import RFPDupeFilter

    config, client, link, scripts, keys, state = world(redis_server, buckets=1024)
    n = 100_000
    fp = BucketedFilter(client, state.rk.filter("s"), fingerprinter=RequestFingerprinter(), link=link,
                        scripts=scripts, buckets=config.buckets, ttl_ms=3_600_000)
    requests = [scrapy.Request(f"http://example.vn/tin-{i}.html") for i in range(50)]
    assert not any(fp.request_seen(r) for r in requests)
    assert all(fp.request_seen(r) for r in requests)
    # fill it fast through a pipeline with the same script, keys and fields
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        f = hashlib.sha1(b"u%d" % i).digest()[:16]
        pipe.evalsha(scripts.add.sha, 1, f"{fp.key}:{int.from_bytes(f[:4], 'big') % config.buckets}", f,
                     3_600_000, b"")
        if i % 5000 == 4999:
            pipe.execute()
    scripts.add(keys=[f"{fp.key}:0"], args=[b"x" * 16, 3_600_000, b""])  # loads the script if needed
    pipe.execute()
    ours = sum(client.memory_usage(k, samples=0) for k in client.scan_iter(match=f"{fp.key}:*", count=1000))
    ttls = {client.ttl(k) > 0 for k in client.scan_iter(match=f"{fp.key}:*", count=1000)}
    theirs_key = f"{config.prefix}:scrapy-redis-set"
    theirs = RFPDupeFilter(client, theirs_key)
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        pipe.sadd(theirs_key, hashlib.sha1(b"u%d" % i).hexdigest())
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()
    per_url, theirs_per_url = ours / (n + 51), client.memory_usage(theirs_key, samples=0) / n
    print(f"request filter: {per_url:.1f} B/URL (scrapy-redis set: {theirs_per_url:.1f} B/URL)")
    assert per_url < 30 and theirs_per_url > 60 and ttls == {True}
    theirs.clear()


def test_a_lease_whose_answer_was_lost_is_handed_back(redis_server):
    """A pop that ran in Redis but whose answer the worker never read (connection lost, Redis
    restarted with its data) would hold a request forever: the worker's next tick hands it back."""
    from types import SimpleNamespace

    from crawler.distributed.scheduler import DistributedScheduler

    config, client, link, scripts, keys, state = world(redis_server)
    q = queue_for(state, client, link, scripts, "A")
    for i in range(3):
        q.push(scrapy.Request(f"http://x/{i}", callback=Spider().parse_listing))
    known = q.pop_leased()
    q.pop_leased()  # "lost": nobody keeps its answer
    scheduler = DistributedScheduler.__new__(DistributedScheduler)
    scheduler.spider, scheduler.server, scheduler.queue = q.spider, client, q
    scheduler.agent = SimpleNamespace(link=link)
    scheduler._leased, scheduler._unacked = {known[0]: known[1]}, []
    scheduler.reconcile()
    assert [f.decode() for f in client.hkeys(state.rk.lease("A"))] == [known[1]] and len(q) == 2
