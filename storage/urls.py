"""URL canonicalisation and article ids.

Two links to one article must become one string before anything is fetched or
deduplicated: tracking parameters go, a mobile host maps to the main one, the
fragment and a trailing slash go, the query is sorted. The article id is a hash
of that string, so it is stable across runs and machines.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Parameters that never select content, on any site.
TRACKING_PARAMS = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|gclsrc|dclid|msclkid|zarsrc|_ga|mc_cid|mc_eid|igshid|yclid|"
    r"ref|ref_src|cmpid|itm_[a-z_]+|sessionid|phpsessid)$",
    re.IGNORECASE,
)


def canonical(url: str, strip_params: tuple[str, ...] = (), host_aliases: tuple[tuple[str, str], ...] = ()) -> str:
    """The one spelling of ``url`` used for requests, dedupe and ``article_id``."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower() or "http"
    host = (parts.hostname or "").lower()
    for alias, main in host_aliases:
        if host == alias:
            host = main
    netloc = host
    if parts.port and not ((scheme == "http" and parts.port == 80) or (scheme == "https" and parts.port == 443)):
        netloc = f"{host}:{parts.port}"
    drop = {p.lower() for p in strip_params}
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING_PARAMS.match(k) and k.lower() not in drop
    ]
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    rebuilt = urlunsplit((scheme, netloc, path, urlencode(query), ""))
    return canonicalize_url(rebuilt, keep_fragments=False)


def article_id(canonical_url: str) -> str:
    """Stable 64-bit id (16 hex digits) of a canonical URL."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:16]


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def on_domains(url: str, domains: tuple[str, ...]) -> bool:
    """True when the URL's host is one of ``domains`` or a subdomain of one."""
    host = host_of(url)
    return any(host == d or host.endswith("." + d) for d in domains)
