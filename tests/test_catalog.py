"""The CPT catalog: families derived from codes and indication, add-on and region rules."""

from __future__ import annotations

import pytest

from domain.catalog import CATALOG, CatalogError, Family, Region, classify

L, C, T = Region.LUMBAR, Region.CERVICAL, Region.THORACIC


@pytest.mark.parametrize(
    ("codes", "region", "indication", "family", "approach"),
    [
        pytest.param(
            ["64483"],
            L,
            None,
            Family.ESI,
            "transforaminal",
            id="a lumbar transforaminal epidural is an esi",
        ),
        pytest.param(
            ["64479", "64480"],
            C,
            None,
            Family.ESI,
            "transforaminal",
            id="a cervical transforaminal epidural with its added level is an esi",
        ),
        pytest.param(
            ["62323"],
            L,
            "chronic_pain",
            Family.ESI,
            "interlaminar",
            id="a lumbar interlaminar epidural is an esi",
        ),
        pytest.param(
            ["62320"],
            C,
            "intrathecal_trial",
            Family.INTRATHECAL_TRIAL,
            None,
            id="62320 with indication intrathecal_trial is an intrathecal trial",
        ),
        pytest.param(
            ["62322"],
            L,
            "intrathecal_trial",
            Family.INTRATHECAL_TRIAL,
            None,
            id="62322 with indication intrathecal_trial is an intrathecal trial",
        ),
        pytest.param(
            ["62324"],
            C,
            "intrathecal_trial",
            Family.INTRATHECAL_TRIAL,
            None,
            id="62324 with indication intrathecal_trial is an intrathecal trial",
        ),
        pytest.param(
            ["62327"],
            L,
            "intrathecal_trial",
            Family.INTRATHECAL_TRIAL,
            None,
            id="62327 with indication intrathecal_trial is an intrathecal trial",
        ),
        pytest.param(
            ["64493", "64494", "64495"],
            L,
            None,
            Family.FACET,
            None,
            id="lumbar facet injections at three levels are one facet procedure",
        ),
        pytest.param(
            ["0213T", "0214T"],
            T,
            None,
            Family.FACET,
            None,
            id="an ultrasound-guided thoracic facet injection is a facet procedure",
        ),
        pytest.param(
            ["64635", "64636"],
            L,
            None,
            Family.RFA,
            None,
            id="lumbar denervation with an added joint is an rfa",
        ),
        pytest.param(
            ["27096"],
            L,
            None,
            Family.SIJ,
            None,
            id="a sacroiliac joint injection is sij (lumbosacral)",
        ),
        pytest.param(
            ["64510"],
            C,
            None,
            Family.SYMPATHETIC,
            None,
            id="a stellate ganglion block is sympathetic in any region",
        ),
        pytest.param(
            ["63650"], T, None, Family.SCS, None, id="percutaneous stimulator electrodes are scs"
        ),
        pytest.param(
            ["62362"], L, None, Family.PUMP, None, id="a programmable pump implant is pump"
        ),
        pytest.param(
            ["64999"],
            L,
            "facet_cyst_aspiration",
            Family.CYST_ASPIRATION,
            None,
            id="64999 with indication facet_cyst_aspiration is a cyst aspiration",
        ),
        pytest.param(
            ["20930"],
            L,
            "stem_cell",
            Family.INVESTIGATIONAL,
            None,
            id="20930 with indication stem_cell is investigational",
        ),
        pytest.param(
            ["0627T"],
            L,
            None,
            Family.INVESTIGATIONAL,
            None,
            id="an allogeneic disc injection is investigational",
        ),
    ],
)
def test_the_family_is_derived_from_the_codes_and_the_indication(
    codes: list[str],
    region: Region,
    indication: str | None,
    family: Family,
    approach: str | None,
) -> None:
    kind = classify(codes, region, indication)
    assert kind.family is family
    assert kind.approach == approach


@pytest.mark.parametrize("code", ["62367", "62368", "62369", "62370", "95990", "95991"])
def test_pump_analysis_and_refill_are_pump_codes_never_limited(code: str) -> None:
    kind = classify([code], L, None)
    assert kind.family is Family.PUMP
    assert kind.never_limited


@pytest.mark.parametrize("code", ["62362", "63650", "64483"])
def test_other_codes_are_limited(code: str) -> None:
    assert not classify([code], L, None).never_limited


@pytest.mark.parametrize(
    ("codes", "region", "indication", "field", "message"),
    [
        pytest.param(
            ["62324"],
            C,
            None,
            "indication",
            "CPT 62324 is accepted only with indication 'intrathecal_trial'",
            id="62324 without an indication is refused",
        ),
        pytest.param(
            ["62326"],
            L,
            "chronic_pain",
            "indication",
            "CPT 62326 is accepted only with indication 'intrathecal_trial'",
            id="62326 with another indication is refused",
        ),
        pytest.param(
            ["64999"],
            L,
            None,
            "indication",
            "CPT 64999 is accepted only with indication 'facet_cyst_aspiration'",
            id="64999 without its indication is refused",
        ),
        pytest.param(
            ["20930"],
            L,
            "chronic_pain",
            "indication",
            "CPT 20930 is accepted only with indication 'stem_cell'",
            id="20930 without indication stem_cell is refused",
        ),
        pytest.param(
            ["99999"],
            L,
            None,
            "codes",
            "unknown CPT code '99999'",
            id="a code not in the catalog is refused",
        ),
        pytest.param(
            [], L, None, "codes", "at least one code is required", id="no code at all is refused"
        ),
        pytest.param(
            ["64484"],
            L,
            None,
            "codes",
            "exactly one primary code is required, got 0",
            id="an add-on alone is refused (no primary)",
        ),
        pytest.param(
            ["64483", "64493"],
            L,
            None,
            "codes",
            "exactly one primary code is required, got 2 (64483, 64493)",
            id="two primary codes are refused",
        ),
        pytest.param(
            ["64493", "64484"],
            L,
            None,
            "codes",
            "add-on code 64484 needs its primary code 64483",
            id="an add-on with another primary is refused",
        ),
        pytest.param(
            ["64490", "64494"],
            C,
            None,
            "codes",
            "CPT 64494 is not allowed in region cervical (only lumbar)",
            id="a lumbar add-on on a cervical facet is refused for its region",
        ),
    ],
)
def test_codes_that_break_the_catalog_are_refused_naming_the_field(
    codes: list[str], region: Region, indication: str | None, field: str, message: str
) -> None:
    with pytest.raises(CatalogError) as refused:
        classify(codes, region, indication)
    assert refused.value.field == field
    assert refused.value.message == message


CERVICAL_THORACIC_CODES = [
    "62320",
    "62321",
    "64479",
    "64480",
    "64490",
    "64491",
    "64492",
    "0213T",
    "0214T",
    "0215T",
    "64633",
    "64634",
]
LUMBAR_CODES = [
    "62322",
    "62323",
    "64483",
    "64484",
    "64493",
    "64494",
    "64495",
    "0216T",
    "0217T",
    "0218T",
    "64635",
    "64636",
    "27096",
]


def _with_primary(code: str) -> list[str]:
    row = CATALOG[code]
    return [row.add_on_to, code] if row.add_on_to else [code]


@pytest.mark.parametrize("code", CERVICAL_THORACIC_CODES)
@pytest.mark.parametrize("region", [C, T])
def test_cervical_thoracic_codes_are_accepted_in_cervical_and_thoracic(
    code: str, region: Region
) -> None:
    classify(_with_primary(code), region, None)


@pytest.mark.parametrize("code", CERVICAL_THORACIC_CODES)
def test_cervical_thoracic_codes_are_refused_in_lumbar(code: str) -> None:
    with pytest.raises(CatalogError, match="not allowed in region lumbar"):
        classify(_with_primary(code), L, None)


@pytest.mark.parametrize("code", LUMBAR_CODES)
def test_lumbar_codes_are_accepted_in_lumbar(code: str) -> None:
    classify(_with_primary(code), L, None)


@pytest.mark.parametrize("code", LUMBAR_CODES)
@pytest.mark.parametrize("region", [C, T])
def test_lumbar_codes_are_refused_in_cervical_and_thoracic(code: str, region: Region) -> None:
    with pytest.raises(CatalogError, match=f"not allowed in region {region.value}"):
        classify(_with_primary(code), region, None)


@pytest.mark.parametrize(
    "code",
    sorted(
        c
        for c, row in CATALOG.items()
        if c not in CERVICAL_THORACIC_CODES + LUMBAR_CODES
        and not row.is_add_on
        and row.required_indication is None
    ),
)
@pytest.mark.parametrize("region", [C, T, L])
def test_every_other_family_takes_any_region(code: str, region: Region) -> None:
    classify([code], region, None)


def test_every_add_on_names_a_primary_of_its_own_family() -> None:
    for row in CATALOG.values():
        if row.add_on_to is not None:
            primary = CATALOG[row.add_on_to]
            assert not primary.is_add_on, row.code
            assert primary.family is row.family, row.code


def test_the_catalog_lists_every_code_of_the_contract() -> None:
    contract = {
        Family.ESI: "62320 62321 62322 62323 64479 64480 64483 64484",
        Family.FACET: "64490 64491 64492 64493 64494 64495 0213T 0214T 0215T 0216T 0217T 0218T",
        Family.RFA: "64633 64634 64635 64636",
        Family.SIJ: "27096",
        Family.SYMPATHETIC: "64510 64517 64520 64530",
        Family.SCS: "63650 63655 63661 63662 63663 63664 63685 63688",
        Family.PUMP: "62350 62351 62355 62360 62361 62362 62365 62367 62368 62369 62370 "
        "95990 95991",
        Family.INTRATHECAL_TRIAL: "62324 62325 62326 62327",
        Family.CYST_ASPIRATION: "64999",
        Family.INVESTIGATIONAL: "0627T 0628T 0629T 0630T 0263T 0264T 0265T 0489T 0490T 0565T "
        "0566T 20930",
    }
    expected = {code: family for family, codes in contract.items() for code in codes.split()}
    assert {code: row.family for code, row in CATALOG.items()} == expected
