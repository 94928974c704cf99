from __future__ import annotations

import codecs

import pytest

from bot.content.decode import UndecodableError, decode_issue, decode_issue_bytes

SAMPLE = (
    "# 1. [标题](https://example.com) | 来源\n\n"
    "正文，含全角标点（括号）与 “引号”。Café naïve Zürich €5\n"
)


@pytest.mark.parametrize(
    "encoded",
    [
        pytest.param(SAMPLE.encode("utf-8"), id="utf-8"),
        pytest.param(codecs.BOM_UTF8 + SAMPLE.encode("utf-8"), id="utf-8 with BOM"),
        pytest.param(SAMPLE.replace("\n", "\r\n").encode("utf-8"), id="CRLF"),
        pytest.param(SAMPLE.encode("gb18030"), id="gb18030"),
    ],
)
def test_accepted_encodings_decode_to_the_same_text(encoded: bytes) -> None:
    assert decode_issue_bytes(encoded) == SAMPLE


def test_gbk_file_decodes() -> None:
    text = "导读：本期为 AI 简报 20210305 期\n"
    assert decode_issue_bytes(text.encode("gbk")) == text


def test_clean_seeds_are_not_altered(seed_bytes: dict[str, bytes]) -> None:
    for name in ("001", "002", "003", "004"):
        assert decode_issue_bytes(seed_bytes[name]) == seed_bytes[name].decode("utf-8")


def test_mojibake_seed_is_partly_repaired(seed_bytes: dict[str, bytes]) -> None:
    repaired = decode_issue_bytes(seed_bytes["000"]).split("\n")
    original = seed_bytes["001"].decode("utf-8").split("\n")
    assert len(repaired) == len(original)
    exact = sum(a == b for a, b in zip(repaired, original, strict=True))
    assert exact >= 166  # ftfy alone: 100; with the lossy repair (issue #4): 166


def test_decoding_says_what_the_repair_did(seed_bytes: dict[str, bytes]) -> None:
    damaged = decode_issue(seed_bytes["000"])
    assert (damaged.restored, damaged.guessed) == (2402, 514)
    assert damaged.text == decode_issue_bytes(seed_bytes["000"])
    clean = decode_issue(seed_bytes["001"])
    assert (clean.restored, clean.guessed) == (0, 0)
    assert clean.text == seed_bytes["001"].decode("utf-8")


# What Windows Notepad saves as "Unicode" (UTF-16 LE) and its other wide encodings.
WIDE = [
    pytest.param(codecs.BOM_UTF16_LE, "utf-16-le", id="utf-16 le"),
    pytest.param(codecs.BOM_UTF16_BE, "utf-16-be", id="utf-16 be"),
    pytest.param(codecs.BOM_UTF32_LE, "utf-32-le", id="utf-32 le"),
    pytest.param(codecs.BOM_UTF32_BE, "utf-32-be", id="utf-32 be"),
]


@pytest.mark.parametrize(("bom", "encoding"), WIDE)
def test_a_wide_encoding_with_its_bom_decodes_as_the_utf8_seed(
    seed_bytes: dict[str, bytes], bom: bytes, encoding: str
) -> None:
    text = seed_bytes["001"].decode("utf-8")
    assert decode_issue(bom + text.encode(encoding)) == decode_issue(seed_bytes["001"])
    crlf = bom + text.replace("\n", "\r\n").encode(encoding)
    assert decode_issue_bytes(crlf) == text


def test_a_utf16_copy_of_the_mojibake_seed_is_repaired_alike(seed_bytes: dict[str, bytes]) -> None:
    text = seed_bytes["000"].decode("utf-8")
    utf16 = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    assert decode_issue(utf16) == decode_issue(seed_bytes["000"])


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "nul_bytes", id="png"),
        pytest.param(bytes(range(256)) * 4, "nul_bytes", id="random bytes"),
        pytest.param("# 1. 标题\n".encode("utf-16-le"), "nul_bytes", id="utf-16 without BOM"),
        pytest.param(b"\xfe\xff" + b"\x00\x01" * 40, "control_characters", id="utf-16 controls"),
        pytest.param(
            codecs.BOM_UTF16_LE + "# 1. 标\x00题\n".encode("utf-16-le"),
            "nul_bytes",
            id="utf-16 NUL",
        ),
        pytest.param(
            codecs.BOM_UTF16_LE + "标题".encode("utf-16-le")[:-1], "encoding", id="utf-16 cut short"
        ),
        pytest.param(codecs.BOM_UTF16_LE + b"\x00\xd8" * 8, "encoding", id="lone surrogates"),
    ],
)
def test_binary_data_is_refused(data: bytes, code: str) -> None:
    with pytest.raises(UndecodableError) as refused:
        decode_issue_bytes(data)
    assert refused.value.problem.code == code
