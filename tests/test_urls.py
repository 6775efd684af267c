from storage.urls import article_id, canonical, on_domains


def test_tracking_params_trailing_slash_fragment_collapse():
    clean = canonical("https://Bao.Example.vn/kinh-te/abc-123.html")
    for variant in (
        "https://bao.example.vn/kinh-te/abc-123.html?utm_source=zalo&utm_medium=share",
        "https://bao.example.vn/kinh-te/abc-123.html/",
        "https://bao.example.vn/kinh-te/abc-123.html#binh-luan",
        "https://bao.example.vn:443/kinh-te/abc-123.html?fbclid=xyz",
    ):
        assert canonical(variant) == clean
    assert clean == "https://bao.example.vn/kinh-te/abc-123.html"


def test_content_params_kept_and_sorted():
    assert canonical("http://x.vn/tin?id=5&cat=2&utm_campaign=a") == "http://x.vn/tin?cat=2&id=5"


def test_source_params_and_host_aliases():
    url = "https://m.bao.vn/a-1.html?from=home&id=1"
    got = canonical(url, strip_params=("from",), host_aliases=(("m.bao.vn", "bao.vn"),))
    assert got == "https://bao.vn/a-1.html?id=1"


def test_article_id_is_stable_and_short():
    a = article_id("https://bao.vn/a-1.html")
    assert a == article_id("https://bao.vn/a-1.html")
    assert len(a) == 16 and int(a, 16) >= 0
    assert a != article_id("https://bao.vn/a-2.html")


def test_on_domains_accepts_subdomains_only():
    assert on_domains("https://kinhdoanh.vnexpress.net/x", ("vnexpress.net",))
    assert not on_domains("https://evilvnexpress.net/x", ("vnexpress.net",))
    assert on_domains("http://127.0.0.1:8080/x", ("127.0.0.1",))
