"""Mojibake repair: lossy damage restored from context, clean text left byte for byte."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import msgpack
import pytest

from bot.content import zh_chars, zh_pos
from bot.content.brackets import pair_brackets
from bot.content.lattice import best_reading
from bot.content.mojibake import candidates, lost_bytes, may_hold_mojibake
from bot.content.repair import repair, repair_text
from bot.content.zh_chars import add_ranked_pairs, add_text, count_corpus, fit_power_law
from bot.content.zh_model import (
    build_model,
    load_model,
    parse_cbpack,
    parse_distribution,
)
from bot.content.zh_pos import CLASSES, build_pos, fold

FIXTURES = Path(__file__).parents[1] / "fixtures"
SAMPLES = (
    "chinese_sample.md",
    "chinese_sample_news.md",
    "chinese_sample_research.md",
    "chinese_sample_business.md",
    "chinese_sample_travel.md",
)
# Measured (right lines, right characters) per sample and code page: regression guards.
# The research and travel samples use 与 as "and" often; with one byte lost it reads as 不 or
# 中 to a word model. Word-class transitions (bot/content/zh_pos.py) fixed about a third of
# those, the character trigram most of the business sample's; most of what is still wrong is
# 与 and pairs of real words (issue #4).
MEASURED = {
    ("chinese_sample.md", "cp1254"): (28, 0.9981),
    ("chinese_sample.md", "cp1252"): (29, 0.9990),
    ("chinese_sample_news.md", "cp1254"): (19, 0.9956),
    ("chinese_sample_news.md", "cp1252"): (19, 0.9970),
    ("chinese_sample_research.md", "cp1254"): (37, 0.9872),
    ("chinese_sample_research.md", "cp1252"): (42, 0.9960),
    ("chinese_sample_business.md", "cp1254"): (32, 1.0),
    ("chinese_sample_business.md", "cp1252"): (32, 1.0),
    ("chinese_sample_travel.md", "cp1254"): (25, 0.9947),
    ("chinese_sample_travel.md", "cp1252"): (25, 0.9968),
}


def damage(text: str, page: str) -> str:
    """What seed 000 went through: UTF-8 read with `page`, unshowable bytes and soft hyphens
    dropped."""
    return text.encode("utf-8").decode(page, errors="ignore").replace("\u00ad", "")


def accuracy(repaired: str, original: str) -> tuple[float, float]:
    """Share of exactly right lines, and of right characters (line ends not counted)."""
    right_lines, chars = _right(repaired, original)
    return right_lines / len(original.split("\n")), chars


def _right(repaired: str, original: str) -> tuple[int, float]:
    """Exactly right lines, and the share of right characters."""
    got, want = repaired.split("\n"), original.split("\n")
    assert len(got) == len(want)
    right_lines = sum(a == b for a, b in zip(got, want, strict=True))
    wrong_chars = sum(
        sum(x != y for x, y in zip(a, b, strict=False)) + abs(len(a) - len(b))
        for a, b in zip(got, want, strict=True)
    )
    total_chars = sum(len(b) for b in want)
    return right_lines, 1 - wrong_chars / total_chars


def test_seed_000_is_restored(seed_bytes: dict[str, bytes]) -> None:
    damaged = seed_bytes["000"].decode("utf-8")
    original = seed_bytes["001"].decode("utf-8")
    assert damage(original, "cp1254") == damaged  # the damage is what we think it is
    # The editor's other issues as the archive; not 001, the very issue undamaged.
    others = "\n".join(seed_bytes[name].decode("utf-8") for name in ("002", "003", "004"))
    lines, chars = accuracy(repair_text(damaged, lambda: others), original)
    print(f"seed 000: {lines:.1%} of lines, {chars:.3%} of characters right")
    # Measured: 171/176 lines (97.2%), 99.944% of characters. ftfy alone: 100 lines.
    assert lines >= 171 / 176
    assert chars >= 0.9992
    # Without an archive: 169/176 lines (96.0%), 99.919% of characters.
    lines, chars = accuracy(repair_text(damaged), original)
    assert lines >= 169 / 176
    assert chars >= 0.9991


@pytest.mark.parametrize("page", ["cp1254", "cp1252"])
@pytest.mark.parametrize("name", SAMPLES)
def test_own_damaged_samples_are_restored(name: str, page: str) -> None:
    original = (FIXTURES / name).read_text(encoding="utf-8")
    lines, chars = _right(repair_text(damage(original, page)), original)
    total = len(original.split("\n"))
    print(f"{name} via {page}: {lines}/{total} lines, {chars:.3%} of characters right")
    least_lines, least_chars = MEASURED[(name, page)]
    assert lines >= least_lines
    assert chars >= least_chars


@pytest.mark.parametrize("name", SAMPLES)
def test_lossless_latin1_mojibake_is_fully_restored(name: str) -> None:
    original = (FIXTURES / name).read_text(encoding="utf-8")
    assert repair_text(original.encode("utf-8").decode("latin-1")) == original


def test_clean_seeds_are_unchanged(seed_bytes: dict[str, bytes]) -> None:
    for name in ("001", "002", "003", "004"):
        text = seed_bytes[name].decode("utf-8")
        assert repair_text(text) == text, name


@pytest.mark.parametrize(
    "text",
    [
        "Café naïve Zürich €5",
        "Crème brûlée, façade, smörgåsbord — “quoted” … «guillemets» ±3 °C, 10×",
        "café… and é» alone, Ü“quoted”",
        "见 https://example.com/a?x=1&utm_source=x#frag，以及（全角括号）与「引号」。",
        "中文与 English 混排：AI 简报 20210305 期，共 9 条。\n\n第二段·结束—完。",
        "",
        "\n\n",
    ],
)
def test_clean_text_is_unchanged(text: str) -> None:
    assert repair_text(text) == text


def test_latin_words_survive_in_a_damaged_file() -> None:
    damaged = damage("本期为您带来新闻", "cp1254") + "\nCafé naïve Zürich €5"
    assert repair_text(damaged) == "本期为您带来新闻\nCafé naïve Zürich €5"


@pytest.mark.parametrize("name", SAMPLES)
def test_clean_samples_are_unchanged(name: str) -> None:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    assert repair_text(text) == text


def test_repair_counts_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    damaged = damage("本文一共 2900 字，通篇阅读结束需要 6~10 分钟", "cp1254")
    result = repair(damaged)
    assert result.text == "本文一共 2900 字，通篇阅读结束需要 6~10 分钟"
    assert result.restored == 16
    assert result.guessed == 3  # 字, 束 and 需 each lost a byte
    with caplog.at_level(logging.INFO, logger="bot.content.repair"):
        repair_text(damaged)
    (record,) = caplog.records
    assert record.getMessage() == "mojibake repaired restored=16 guessed=3"
    assert record.__dict__["chars_restored"] == 16


def test_candidates_fill_lost_bytes_at_every_missing_place() -> None:
    # 字 is E5 AD 97; AD was lost, so E5 97 could be E5 xx 97 or E5 97 xx.
    found = candidates(bytes([0xE5, 0x97]), 3, frozenset({0x90, 0xAD}))
    assert found == ("吗", "字", "嗐", "嗭")


def test_lost_bytes_follow_the_code_page_that_showed_the_text() -> None:
    assert 0x8E in lost_bytes("ğŸ")  # cp1254 has no character for 8E
    assert 0x8E not in lost_bytes("Ž")  # cp1252 shows it
    assert 0xAD not in lost_bytes("\u00ad")  # soft hyphens were kept


def test_best_reading_prefers_words() -> None:
    model = build_model({"结束": 0.1, "结": 0.05, "歟": 0.0001, "束": 0.01})
    chars = count_corpus("结/b 束/e\n")
    positions = [("结",), ("歟", "束")]
    assert best_reading(positions, model, chars) == ["结", "束"]


def test_ranked_pairs_teach_what_the_corpus_lacks() -> None:
    # Enough running text that the unigram scores come close to summing to 1.
    corpus = count_corpus("十/s 位/s 重/s 要/s 量/s 子/s 轻/s\n" * 5000)
    # jiojio's most common pairs first; the law says the pair at place p is seen 50 / (p + 1)
    # times: 量子 50 times, 轻量 once.
    ranked = [(0, "量子"), (1, "重要"), (49, "轻量")]
    learnt = add_ranked_pairs(corpus, ranked, (math.log(50), -1.0))
    assert learnt.counts["量子"] == pytest.approx(corpus.counts["量子"] + 50)
    assert learnt.counts["轻量"] == pytest.approx(1.0)
    assert learnt.score("量", "子") > corpus.score("量", "子")
    assert learnt.score("量", "子") > learnt.score("量", "十")
    # Pairs only: how common a character is still comes from the running text.
    assert learnt.score("", "量") == corpus.score("", "量")
    for context in "十位重要量子轻":  # after every character, still a distribution
        assert sum(math.exp(learnt.score(context, c)) for c in "十位重要量子轻") <= 1 + 1e-9


def test_a_power_law_is_fitted_to_the_ranked_pairs() -> None:
    # The pair at place p seen 1000 / (p + 1) times, digits folded away (not counted).
    ranked = [
        (place, chr(0x4E00 + place // 90) + chr(0x5E00 + place % 90)) for place in range(9000)
    ]
    counts = {pair: 1000 / (place + 1) for place, pair in ranked}
    ranked.append((100, "12"))
    intercept, slope = fit_power_law(ranked, counts)
    assert slope == pytest.approx(-1.0, abs=0.05)
    for place in (10, 1000, 8000):  # within the spread of a stretch's mean
        assert math.exp(intercept + slope * math.log(place + 1)) == pytest.approx(
            1000 / (place + 1), rel=0.2
        )
    with pytest.raises(ValueError, match="too few pairs"):
        fit_power_law(ranked[:10], counts)


def test_the_two_characters_before_decide() -> None:
    # After 处 alone 理 is the likelier (6 to 3); after 仍处 only 于 was ever seen.
    model = count_corpus("仍/d 处/v 于/v\n处/v 理/v\n" * 3 + "从/p 处/v 理/v\n" * 3)
    assert model.score("仍处", "于") > model.score("仍处", "理")
    assert model.score("从处", "理") > model.score("从处", "于")
    # Seen once (no more than the discount): the trigram adds nothing over the pair.
    once = count_corpus("甲/s 乙/s 丙/s\n乙/s 丁/s\n")
    assert "甲乙丙" not in once.counts
    assert once.score("甲乙", "丙") == once.score("乙", "丙")
    for context in ("仍处", "从处", "处"):  # after every context, still a distribution
        assert sum(math.exp(model.score(context, c)) for c in "仍处于理从") <= 1 + 1e-9


def test_the_archive_counts_with_the_corpus() -> None:
    corpus = count_corpus("十/s 位/s 量/s 子/s 低/s\n" * 100 + "量/s 子/s 力/s 学/s\n" * 3)
    learnt = add_text(corpus, "量子位 量子位\n量子", times=3)
    assert "量子位" not in corpus.counts
    assert learnt.counts["量子位"] == 6
    assert learnt.counts["量子"] == corpus.counts["量子"] + 9
    assert learnt.total == corpus.total + 24
    assert learnt.score("量子", "位") > learnt.score("量子", "力") > corpus.score("量子", "位")
    for context in ("量子", "子", ""):  # after every context, still a distribution
        assert sum(math.exp(learnt.score(context, c)) for c in "十位量子低力学") <= 1 + 1e-9


def test_brackets_pair_up() -> None:
    positions = [("「",), ("好",), ("、", "」"), ("，",), ("、", "」")]
    assert pair_brackets(positions) == [("「",), ("好",), ("」",), ("，",), ("、",)]


def test_model_sources_parse() -> None:
    packed = parse_cbpack([{"format": "cB"}, ["的"], [], ["是"]])
    assert packed == {"的": 1.0, "是": 10 ** (-2 / 100)}
    assert parse_distribution(['["的", 3]', "", '["华为", 1]']) == {"的": 0.75, "华为": 0.25}
    model = build_model({"的": 0.5}, {"的": 0.1, "是": 0.2})
    assert math.isclose(model.logp["的"], math.log(0.3))
    assert model.char_score("是") == math.log(0.1)
    assert model.char_score("歟") == model.unknown


def test_mojibake_in_the_word_lists_stays_rare() -> None:
    # Word lists counted from web text hold some GBK mojibake as characters (`紝` among them);
    # one must never outrank the real character it competes with as a candidate.
    model = load_model()
    assert model.char_score("琴") > model.char_score("紝") + 3
    # Punctuation is counted too: a damaged `、` must beat the rare ideographs it could be.
    assert model.char_score("、") > model.char_score("㐀") + 3


# A toy tagged corpus: 与 joins nouns, 不 comes before verbs.
_TAGGED = [
    "技术/n  与/c  应用/n  。/w",
    "数据/n  与/c  模型/n  ，/w  他/r  不/d  去/v  。/w",
    "我/r  不/d  看/v  。/w",
] * 20


def test_word_classes_fold_tags_and_count_transitions() -> None:
    assert fold("nr") == fold("ns") == CLASSES.index("nr")
    assert fold("Vg") == CLASSES.index("v")
    assert fold("zz") is None
    model = build_pos(_TAGGED * 5, ["模型 10 n", "演示 5 vn"])
    assert model.classes_of("演示") == ((CLASSES.index("vn"), 0.0),)  # from the dictionary
    noun, verb = CLASSES.index("n"), CLASSES.index("v")
    and_, not_ = model.names.index("与"), model.names.index("不")  # common: classes of their own
    assert model.association[noun][and_] > model.association[noun][not_]
    assert model.association[not_][verb] > model.association[not_][noun]
    assert model.association[-1] == (0.0,) * len(model.association)  # unknown: no evidence


def test_models_survive_the_cache() -> None:
    classes = build_pos(_TAGGED, ["演示 5 vn"])
    assert zh_pos._unpack(msgpack_round_trip(zh_pos._pack(classes))) == classes
    chars = add_ranked_pairs(count_corpus("仍/d 处/v 于/v\n" * 3), [(0, "处理")], (0.5, -1.0))
    assert zh_chars._unpack(msgpack_round_trip(zh_chars._pack(chars))) == chars


def msgpack_round_trip(data: object) -> object:
    return msgpack.unpackb(msgpack.packb(data), raw=False, strict_map_key=False)


def test_best_reading_follows_word_classes(monkeypatch: pytest.MonkeyPatch) -> None:
    # Alone the word model prefers 不; between two nouns the classes choose 与.
    words = build_model({"技术": 0.2, "应用": 0.2, "不": 0.3, "与": 0.1, "。": 0.1})
    chars = count_corpus("技/b 术/e\n")
    positions = [("技",), ("术",), ("不", "与"), ("应",), ("用",), ("。",)]
    classes = build_pos(_TAGGED * 5, ["技术 1 n", "应用 1 n"])
    monkeypatch.setattr("bot.content.lattice.CLASS_WEIGHT", 0.0)
    assert best_reading(positions, words, chars, classes)[2] == "不"
    monkeypatch.setattr("bot.content.lattice.CLASS_WEIGHT", 1.2)
    assert best_reading(positions, words, chars, classes)[2] == "与"


@pytest.mark.parametrize(
    ("text", "suspect"),
    [
        ("纯中文，全角标点（括号）“引号”— 与 · 符号", False),
        ("https://example.com/?a=1&b=2", False),
        ("Café", True),  # é is a UTF-8 lead byte shown through a code page
        ("1×1 体素", True),
        ("å¯¼è¯»", True),
        ("control \x85 char", True),  # ftfy rewrites C1 controls
    ],
)
def test_only_text_that_may_hold_mojibake_is_walked(text: str, suspect: bool) -> None:
    assert may_hold_mojibake(text) is suspect
    if not suspect:
        assert repair(text).text == text
