from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstmark.domain.utm import (
    DEFAULT_TAXONOMY,
    UTM_FIELDS,
    Taxonomy,
    UtmWarning,
    normalise_utm,
    taxonomy,
    taxonomy_warnings,
)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("google", "google"),
        ("LinkedIn", "linkedin"),
        ("Spring Sale ", "spring-sale"),
        ("  Spring   Sale  2025 ", "spring-sale-2025"),
        ("spring\tsale", "spring-sale"),
        ("spring \t\n sale", "spring-sale"),
        ("spring\u00a0sale", "spring-sale"),
        ("paid_social", "paid_social"),
        ("Paid-Social", "paid-social"),
        ("a - b", "a---b"),
        ("", ""),
        ("   ", ""),
        ("ÉTÉ Soldes", "été-soldes"),
    ],
)
def test_normalise_utm(raw: str, normalised: str) -> None:
    assert normalise_utm(raw) == normalised


@given(st.text())
def test_normalise_utm_is_idempotent(raw: str) -> None:
    once = normalise_utm(raw)
    assert normalise_utm(once) == once
    assert not any(ch.isspace() for ch in once)
    assert once == once.lower()


def test_utm_fields() -> None:
    assert UTM_FIELDS == (
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "utm_id",
    )


def test_default_taxonomy_is_normalised() -> None:
    for value in DEFAULT_TAXONOMY.sources | DEFAULT_TAXONOMY.mediums:
        assert normalise_utm(value) == value
    assert {"google", "facebook", "linkedin", "newsletter"} <= DEFAULT_TAXONOMY.sources
    assert {"cpc", "email", "social", "organic", "referral", "qr"} <= DEFAULT_TAXONOMY.mediums
    assert "e-mail" not in DEFAULT_TAXONOMY.mediums


def test_default_taxonomy_has_no_near_duplicates() -> None:
    # Otherwise a known value could be suggested in place of another known value.
    for known in (DEFAULT_TAXONOMY.sources, DEFAULT_TAXONOMY.mediums):
        field = "utm_source" if known is DEFAULT_TAXONOMY.sources else "utm_medium"
        for value in known:
            assert taxonomy_warnings({field: value}, DEFAULT_TAXONOMY) == []


def test_taxonomy_replaces_defaults_when_given() -> None:
    custom = taxonomy(sources=[" Partner Site", "newsletter"], mediums=(m for m in ["Email"]))
    assert custom == Taxonomy(
        sources=frozenset({"partner-site", "newsletter"}), mediums=frozenset({"email"})
    )
    assert taxonomy() == DEFAULT_TAXONOMY
    assert taxonomy(mediums=["qr"]).sources == DEFAULT_TAXONOMY.sources
    assert taxonomy(sources=["", "  "]).sources == DEFAULT_TAXONOMY.sources


def _summary(warnings: list[UtmWarning]) -> list[tuple[str, str, str | None]]:
    return [(w.field, w.value, w.suggestion) for w in warnings]


@pytest.mark.parametrize(
    ("fields", "in_use", "expected"),
    [
        # known values, typed as stored
        ({"utm_source": "google", "utm_medium": "cpc"}, None, []),
        ({"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "spring"}, None, []),
        # trimming alone is not worth a warning
        ({"utm_medium": "cpc "}, None, []),
        ({"utm_source": " google\t"}, None, []),
        # (a) changed by normalisation
        ({"utm_source": "LinkedIn"}, None, [("utm_source", "linkedin", None)]),
        ({"utm_campaign": "Spring Sale"}, None, [("utm_campaign", "spring-sale", None)]),
        ({"utm_term": "running  shoes"}, None, [("utm_term", "running-shoes", None)]),
        # (b) near-duplicates of the taxonomy
        ({"utm_medium": "e-mail"}, None, [("utm_medium", "e-mail", "email")]),
        ({"utm_medium": "e_mail"}, None, [("utm_medium", "e_mail", "email")]),
        (
            {"utm_medium": "E-Mail"},
            None,
            [("utm_medium", "e-mail", None), ("utm_medium", "e-mail", "email")],
        ),
        ({"utm_source": "linked-in"}, None, [("utm_source", "linked-in", "linkedin")]),
        ({"utm_source": "linked.in"}, None, [("utm_source", "linked.in", "linkedin")]),
        ({"utm_source": "facebok"}, None, [("utm_source", "facebok", "facebook")]),
        ({"utm_source": "faecbook"}, None, [("utm_source", "faecbook", "facebook")]),
        ({"utm_source": "you-tube"}, None, [("utm_source", "you-tube", "youtube")]),
        ({"utm_source": "instagramm"}, None, [("utm_source", "instagramm", "instagram")]),
        ({"utm_medium": "paid social"}, None, [("utm_medium", "paid-social", None)]),
        ({"utm_medium": "paidsocial"}, None, [("utm_medium", "paidsocial", "paid-social")]),
        ({"utm_medium": "referal"}, None, [("utm_medium", "referal", "referral")]),
        ({"utm_medium": "c.p.c"}, None, [("utm_medium", "c.p.c", "cpc")]),
        # short values only match when equal once squashed
        ({"utm_source": "bign"}, None, []),
        ({"utm_medium": "cpx"}, None, [("utm_medium", "cpx", None)]),
        # (c) unknown medium, nothing close
        ({"utm_medium": "carrier-pigeon"}, None, [("utm_medium", "carrier-pigeon", None)]),
        # unknown sources are fine: the list of sites is open-ended
        ({"utm_source": "partner-blog"}, None, []),
        # values other links use count as known
        (
            {"utm_source": "partner-blog"},
            {"utm_source": ["partner_blog"]},
            [("utm_source", "partner-blog", "partner_blog")],
        ),
        (
            {"utm_source": "partnr-blog"},
            {"utm_source": ["partner-blog"]},
            [("utm_source", "partnr-blog", "partner-blog")],
        ),
        ({"utm_source": "partner-blog"}, {"utm_source": ["partner-blog"]}, []),
        ({"utm_source": "partner-blog"}, {"utm_medium": ["partner_blog"]}, []),
        # a medium used elsewhere but unknown to the taxonomy still gets (c)
        ({"utm_medium": "flyer"}, {"utm_medium": ["flyer"]}, [("utm_medium", "flyer", None)]),
        ({"utm_medium": "flyers"}, {"utm_medium": ["flyer"]}, [("utm_medium", "flyers", "flyer")]),
        # campaign, term, content, id: only against values in use
        (
            {"utm_campaign": "spring-sale"},
            {"utm_campaign": ["spring_sale", "summer-sale"]},
            [("utm_campaign", "spring-sale", "spring_sale")],
        ),
        (
            {"utm_campaign": "sprng-sale"},
            {"utm_campaign": ["spring-sale"]},
            [("utm_campaign", "sprng-sale", "spring-sale")],
        ),
        (
            {"utm_campaign": "Spring_Sale"},
            {"utm_campaign": ["spring-sale"]},
            [("utm_campaign", "spring_sale", None), ("utm_campaign", "spring_sale", "spring-sale")],
        ),
        ({"utm_campaign": "facebok"}, None, []),
        ({"utm_content": "hero-banner"}, {"utm_content": ["Hero Banner"]}, []),
        ({"utm_id": "abc123"}, {"utm_id": ["abc124"]}, [("utm_id", "abc123", "abc124")]),
        ({"utm_campaign": "q1"}, {"utm_campaign": ["q2"]}, []),
        # empty or missing fields, and fields that are not UTM, are ignored
        ({"utm_source": "", "utm_medium": "  "}, None, []),
        ({"ref": "LinkedIn"}, None, []),
    ],
)
def test_taxonomy_warnings(
    fields: dict[str, str],
    in_use: dict[str, list[str]] | None,
    expected: list[tuple[str, str, str | None]],
) -> None:
    assert _summary(taxonomy_warnings(fields, DEFAULT_TAXONOMY, in_use)) == expected


def test_warning_messages() -> None:
    warnings = taxonomy_warnings(
        {"utm_source": "LinkedIn", "utm_medium": "e-mail", "utm_campaign": "sprng"},
        DEFAULT_TAXONOMY,
        {"utm_campaign": ["spring"]},
    )
    assert [w.to_json() for w in warnings] == [
        {
            "field": "utm_source",
            "value": "linkedin",
            "suggestion": None,
            "message": "'LinkedIn' was stored as 'linkedin'",
        },
        {
            "field": "utm_medium",
            "value": "e-mail",
            "suggestion": "email",
            "message": "'e-mail' looks like the known medium 'email'",
        },
        {
            "field": "utm_campaign",
            "value": "sprng",
            "suggestion": "spring",
            "message": "'sprng' looks like 'spring', already used on other links",
        },
    ]
    unknown = taxonomy_warnings({"utm_medium": "carrier-pigeon"}, DEFAULT_TAXONOMY)
    assert "not a known medium" in unknown[0].message


def test_warnings_follow_field_order() -> None:
    fields = {"utm_medium": "Social", "utm_campaign": "A B", "utm_source": "Google"}
    assert [w.field for w in taxonomy_warnings(fields, DEFAULT_TAXONOMY)] == [
        "utm_source",
        "utm_medium",
        "utm_campaign",
    ]


def test_closest_wins_and_ties_are_alphabetical() -> None:
    # "abcdx" is one edit from both; the alphabetically first one is suggested.
    in_use = {"utm_campaign": ["abcdz", "abcdy", "abcde"]}
    warnings = taxonomy_warnings({"utm_campaign": "abcdx"}, DEFAULT_TAXONOMY, in_use)
    assert _summary(warnings) == [("utm_campaign", "abcdx", "abcde")]
    # a squashed match beats an edit
    in_use = {"utm_campaign": ["abcdz", "ab-cdx-"]}
    warnings = taxonomy_warnings({"utm_campaign": "abcdx"}, DEFAULT_TAXONOMY, in_use)
    assert _summary(warnings) == [("utm_campaign", "abcdx", "ab-cdx-")]
    # a transposition is one edit (two for plain Levenshtein, a tie with "lanu-week")
    in_use = {"utm_campaign": ["launch-week", "lanu-week"]}
    warnings = taxonomy_warnings({"utm_campaign": "lanuch-week"}, DEFAULT_TAXONOMY, in_use)
    assert _summary(warnings) == [("utm_campaign", "lanuch-week", "launch-week")]


def test_custom_taxonomy() -> None:
    known = taxonomy(sources=["partner"], mediums=["flyer", "poster"])
    assert taxonomy_warnings({"utm_source": "partner", "utm_medium": "poster"}, known) == []
    assert _summary(taxonomy_warnings({"utm_medium": "posters"}, known)) == [
        ("utm_medium", "posters", "poster")
    ]
    assert _summary(taxonomy_warnings({"utm_medium": "cpc"}, known)) == [
        ("utm_medium", "cpc", None)
    ]


def test_in_use_may_be_one_shot_iterables() -> None:
    in_use = {"utm_campaign": iter(["spring-sale"])}
    warnings = taxonomy_warnings({"utm_campaign": "spring_sale"}, DEFAULT_TAXONOMY, in_use)
    assert _summary(warnings) == [("utm_campaign", "spring_sale", "spring-sale")]


@given(
    st.dictionaries(st.sampled_from(UTM_FIELDS), st.text(max_size=12)),
    st.dictionaries(st.sampled_from(UTM_FIELDS), st.lists(st.text(max_size=12), max_size=5)),
)
def test_warnings_are_deterministic_and_well_formed(
    fields: dict[str, str], in_use: dict[str, list[str]]
) -> None:
    first = taxonomy_warnings(fields, DEFAULT_TAXONOMY, in_use)
    reversed_use = {k: list(reversed(v)) for k, v in reversed(in_use.items())}
    assert taxonomy_warnings(fields, DEFAULT_TAXONOMY, reversed_use) == first
    for warning in first:
        assert warning.field in fields
        assert warning.value == normalise_utm(fields[warning.field])
        assert warning.suggestion != warning.value
        assert warning.message
        assert set(warning.to_json()) == {"field", "value", "suggestion", "message"}
