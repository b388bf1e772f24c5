"""Each importer reads its fixture, written in the tool's documented export format."""

from __future__ import annotations

from pathlib import Path

import pytest

from firstmark.domain import imports
from firstmark.errors import InvalidFile

FIXTURES = Path(__file__).parent.parent / "fixtures" / "import"


def parse(tool: str, name: str) -> list[imports.Row]:
    return imports.parse(tool, (FIXTURES / name).read_bytes())


def test_bitly_csv_keeps_codes_splits_utm_and_counts_clicks() -> None:
    first, second = parse("bitly", "bitly.csv")
    assert first.body == {
        "code": "spring24",
        "destination": "https://shop.example/sale?ref=x",
        "utm_source": "newsletter",
        "utm_medium": "email",
        "utm_campaign": "spring",
        "tags": ["promo", "email"],
    }
    assert (first.clicks, first.row) == (1204, 2)
    assert second.body == {"code": "docs-home", "destination": "https://docs.example/"}
    assert second.clicks == 87


def test_yourls_sql_dump_reads_the_url_table_only_and_never_the_ip() -> None:
    rows = parse("yourls", "yourls.sql")
    assert [r.body["code"] for r in rows] == ["ozh", "yourls"]
    assert rows[0].body == {
        "code": "ozh",
        "destination": "https://ozh.org/",
        "utm_source": "twitter",
        "utm_medium": "social",
    }
    assert [r.clicks for r in rows] == [42, 7]
    assert "127.0.0.1" not in repr(rows)


def test_yourls_csv() -> None:
    (row,) = parse("yourls", "yourls.csv")
    assert row.body == {
        "code": "gh",
        "destination": "https://github.com/YOURLS/YOURLS",
        "utm_campaign": "launch",
    }
    assert row.clicks == 19 and "192.0.2.1" not in repr(row)


def test_shlink_csv_and_api_json() -> None:
    first, second = parse("shlink", "shlink.csv")
    assert first.body == {
        "code": "abc123",
        "destination": "https://example.com/landing",
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_term": "shoes",
        "tags": ["ads", "shoes"],
    }
    assert (first.clicks, second.clicks) == (300, 0)
    (item,) = parse("shlink", "shlink.json")
    assert item.body == {
        "code": "12C18",
        "destination": "https://store.example/shoes",
        "utm_source": "mail",
        "utm_content": "hero",
        "tags": ["games", "tech"],
        "expires_at": "2030-01-20T22:00:00Z",
        "valid_from": "2017-01-20T22:00:00Z",
        "max_hits": 500,
    }
    assert item.clicks == 328


def test_kutt_json_with_expiry() -> None:
    promo, about = parse("kutt", "kutt.json")
    assert promo.body == {
        "code": "promo",
        "destination": "https://promo.example/",
        "utm_source": "kutt",
        "utm_medium": "referral",
        "utm_campaign": "feb",
        "expires_at": "2031-02-02T10:00:00Z",
    }
    assert (promo.clicks, about.clicks) == (55, 0)


def test_dub_csv() -> None:
    launch, pricing = parse("dub", "dub.csv")
    assert launch.body == {
        "code": "launch",
        "destination": "https://acme.example/launch?plan=pro",
        "utm_source": "x",
        "utm_medium": "social",
        "utm_campaign": "launch",
        "tags": ["launch", "social"],
        "expires_at": "2032-01-01T00:00:00Z",
    }
    assert (launch.clicks, pricing.clicks) == (910, 12)


@pytest.mark.parametrize(
    ("tool", "data", "where"),
    [
        ("bitly", b"Title,Nothing\nx,y\n", "link"),
        ("bitly", b"Link,Long URL,Clicks\nbit.ly/a,https://a.example/,many\n", "clicks"),
        ("kutt", b"{not json", "file"),
        ("kutt", b'{"data": [{"address": "a"}]}', "target"),
        ("shlink", b'{"shortUrls": {"data": [{"shortCode": "a", "longUrl": 5}]}}', "longUrl"),
        ("yourls", b"INSERT INTO `yourls_url` VALUES ('a','https://a.example/'", "file"),
        ("dub", b"\xff\xfe", "file"),
        ("dub", b"", "file"),
    ],
)
def test_a_bad_file_names_the_row_and_column(tool: str, data: bytes, where: str) -> None:
    with pytest.raises(InvalidFile) as raised:
        imports.parse(tool, data)
    assert raised.value.errors[0].column == where
