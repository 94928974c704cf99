"""URL cleaning: safe schemes only, tracking parameters removed, one rule table per host.

To support a new host, add a `HostRule` to `HOST_RULES`; nothing else changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

SAFE_SCHEMES = frozenset({"http", "https", "tg"})

# Dropped on every host: analytics tags that never change what a page shows.
_GLOBAL_TRACKING_PREFIXES = ("utm_",)
_GLOBAL_TRACKING_NAMES = frozenset({"fbclid", "gclid"})


@dataclass(frozen=True)
class HostRule:
    """How to clean the URLs of one host whose path matches `path`."""

    host: str
    path: re.Pattern[str]
    keep_params: frozenset[str] | None  # None keeps all but the global tracking ones
    drop_fragment: bool = False
    force_https: bool = False


# WeChat articles: the rule RSSHub uses. `/s?__biz&mid&idx&sn` identifies an article;
# `/s/<id>` is a short link that needs no parameters at all.
HOST_RULES: tuple[HostRule, ...] = (
    HostRule(
        host="mp.weixin.qq.com",
        path=re.compile(r"/s/[^/]+/?"),
        keep_params=frozenset(),
        drop_fragment=True,
        force_https=True,
    ),
    HostRule(
        host="mp.weixin.qq.com",
        path=re.compile(r"/s/?"),
        keep_params=frozenset({"__biz", "mid", "idx", "sn"}),
        drop_fragment=True,
        force_https=True,
    ),
)


def clean_url(url: str) -> str | None:
    """Return the tracking-free form of `url`, or None when it must not become a link."""
    url = url.strip()
    if url.startswith("www."):
        url = "https://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in SAFE_SCHEMES:
        return None
    if scheme == "tg":
        return url
    if not parts.hostname:
        return None
    rule = _rule_for(parts.hostname.lower(), parts.path)
    query = _filter_query(parts.query, rule.keep_params if rule else None)
    fragment = "" if rule and rule.drop_fragment else parts.fragment
    if rule and rule.force_https:
        scheme = "https"
    return urlunsplit((scheme, parts.netloc, parts.path, query, fragment))


def _rule_for(host: str, path: str) -> HostRule | None:
    for rule in HOST_RULES:
        if host == rule.host and rule.path.fullmatch(path):
            return rule
    return None


def _filter_query(query: str, keep: frozenset[str] | None) -> str:
    # Split by hand rather than parse_qsl/urlencode, so kept values stay byte-for-byte
    # as written (`__biz=MzA3MzI4MjgzMw==` must not become `%3D%3D`).
    kept = []
    for pair in query.split("&"):
        name = pair.split("=", 1)[0]
        if not name:
            continue
        if keep is not None and name not in keep:
            continue
        if name.lower().startswith(_GLOBAL_TRACKING_PREFIXES) or name in _GLOBAL_TRACKING_NAMES:
            continue
        kept.append(pair)
    return "&".join(kept)


# A bare URL is ASCII only: it ends at white space, at quotes or angle brackets, and at
# the first non-ASCII character, which in Chinese text is full-width punctuation or a
# CJK character glued to the URL (`…/nanodet）是一个`).
_BARE_URL = re.compile(r"(?:https?://|www\.)[!#-;=?-~]+", re.IGNORECASE)
_TRAILING_PUNCTUATION = ".,;:!?'\"*_~"
_CLOSERS = {")": "(", "]": "["}


@dataclass(frozen=True)
class BareUrl:
    start: int
    end: int
    url: str


def find_bare_urls(text: str) -> list[BareUrl]:
    """Find URLs written as plain text, trimmed of the punctuation that follows them."""
    found = []
    for match in _BARE_URL.finditer(text):
        url = _trim(match.group())
        if "." not in url.split("//", 1)[-1]:
            continue
        found.append(BareUrl(match.start(), match.start() + len(url), url))
    return found


def _trim(url: str) -> str:
    while url:
        last = url[-1]
        unbalanced = last in _CLOSERS and url.count(last) > url.count(_CLOSERS[last])
        if last not in _TRAILING_PUNCTUATION and not unbalanced:
            break
        url = url[:-1]
    return url
