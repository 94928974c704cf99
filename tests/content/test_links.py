from __future__ import annotations

import pytest

from bot.content.links import clean_url, find_bare_urls

WEIXIN_LONG = (
    "https://mp.weixin.qq.com/s?__biz=MzA3MzI4MjgzMw==&mid=2650809135&idx=3"
    "&sn=0e2849bbc389890e2e2b1577cf1ef4a7&chksm=84e5e751b3926e47&mpshare=1&scene=1"
    "&srcid=0305FmHt8hbNJq7R9ReVc7ug&sharer_sharetime=1614934599306"
    "&sharer_shareid=669d7c05c1027e01&key=b5a1203f2cded9a3&ascene=1&uin=MjM2MTMxMDI4MA%3D%3D"
    "&devicetype=Windows+10+x64&version=63000039&lang=zh_CN&exportkey=AVJnlkB%2B9MVY"
    "&pass_ticket=hz8hl4XIbAmx&wx_header=0&sessionid=1614932684"
)
WEIXIN_CLEAN = (
    "https://mp.weixin.qq.com/s?__biz=MzA3MzI4MjgzMw==&mid=2650809135&idx=3"
    "&sn=0e2849bbc389890e2e2b1577cf1ef4a7"
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(WEIXIN_LONG, WEIXIN_CLEAN, id="weixin keeps __biz mid idx sn only"),
        pytest.param(WEIXIN_LONG.replace("https", "http", 1), WEIXIN_CLEAN, id="weixin http"),
        pytest.param(WEIXIN_CLEAN + "#rd", WEIXIN_CLEAN, id="weixin #rd"),
        pytest.param(
            WEIXIN_CLEAN + "&scene=21#wechat_redirect", WEIXIN_CLEAN, id="wechat_redirect"
        ),
        pytest.param(
            "http://mp.weixin.qq.com/s/JPDcvopsXemjW2uEA9X_XQ?scene=1&utm_source=x#wechat_redirect",
            "https://mp.weixin.qq.com/s/JPDcvopsXemjW2uEA9X_XQ",
            id="weixin short link keeps no parameters",
        ),
        pytest.param(
            "https://example.com/p?utm_source=a&id=1&utm_medium=b&UTM_CAMPAIGN=c#part",
            "https://example.com/p?id=1#part",
            id="utm everywhere, other parameters and fragment kept",
        ),
        pytest.param("https://example.com/p?utm_source=a", "https://example.com/p", id="only utm"),
        pytest.param("http://example.com/p", "http://example.com/p", id="http kept elsewhere"),
        pytest.param("www.example.com/x", "https://www.example.com/x", id="www without scheme"),
        pytest.param("tg://resolve?domain=durov", "tg://resolve?domain=durov", id="tg"),
        pytest.param("javascript:alert(1)", None, id="javascript"),
        pytest.param("JavaScript:alert(1)", None, id="javascript any case"),
        pytest.param("data:text/html,<script>alert(1)</script>", None, id="data"),
        pytest.param("vbscript:msgbox", None, id="vbscript"),
        pytest.param("file:///etc/passwd", None, id="file"),
        pytest.param("/relative/path", None, id="relative"),
        pytest.param("https://", None, id="no host"),
        pytest.param("http://[::1", None, id="malformed"),
    ],
)
def test_clean_url(url: str, expected: str | None) -> None:
    assert clean_url(url) == expected


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        pytest.param(
            "NanoDet （https://github.com/RangiLyu/nanodet）是一个",
            ["https://github.com/RangiLyu/nanodet"],
            id="full-width parenthesis",
        ),
        pytest.param(
            "链接：https://pan.baidu.com/s/1K1Dr2vMUZ8UmtVbZHkKAVA 提取码：w41p",
            ["https://pan.baidu.com/s/1K1Dr2vMUZ8UmtVbZHkKAVA"],
            id="space",
        ),
        pytest.param("见https://a.example/x，以及", ["https://a.example/x"], id="full-width comma"),
        pytest.param("地址：https://a.example/x。", ["https://a.example/x"], id="full-width stop"),
        pytest.param("see https://a.example/x.", ["https://a.example/x"], id="ascii stop"),
        pytest.param("(https://a.example/x)", ["https://a.example/x"], id="ascii parens"),
        pytest.param(
            "https://en.wikipedia.org/wiki/Python_(language)",
            ["https://en.wikipedia.org/wiki/Python_(language)"],
            id="balanced parens kept",
        ),
        pytest.param(
            "https://github.com/ossu/computer-science#summary",
            ["https://github.com/ossu/computer-science#summary"],
            id="fragment",
        ),
        pytest.param("not a url: https://", [], id="bare scheme"),
    ],
)
def test_find_bare_urls(text: str, urls: list[str]) -> None:
    assert [bare.url for bare in find_bare_urls(text)] == urls
