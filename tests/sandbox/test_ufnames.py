"""User-field naming in crm.item.*: the conversion vectors of REFERENCE §6.5 and collisions."""

from __future__ import annotations

import pytest

from b24sandbox import ufnames
from b24sandbox.ufnames import rest_names, to_camel


@pytest.mark.parametrize(
    ("original", "converted"),
    [
        ("UF_CRM_10_DIGIT", "ufCrm10Digit"),
        ("UF_CRM_3_1747309727", "ufCrm3_1747309727"),
        ("UF_CRM_5_AMOUNT", "ufCrm5Amount"),
        ("UF_CRM_5_PAYMENT_DUE", "ufCrm5PaymentDue"),
        ("UF_CRM_5_1739432938", "ufCrm5_1739432938"),
        ("UF_CRM_44_1721812760630", "ufCrm44_1721812760630"),
        ("UF_CRM_7_NEW_REST_LIST", "ufCrm7NewRestList"),
        ("UF_CRM_3_DIGIT10", "ufCrm_3_DIGIT10"),
        ("UF_CRM_3_DIGIT_10", "ufCrm_3_DIGIT_10"),
        ("UF_CRM_5_AMOUNT2", "ufCrm_5_AMOUNT2"),
        ("UF_CRM_7_NEW_REST_LIST_2026", "ufCrm_7_NEW_REST_LIST_2026"),
        ("UF_CRM_1747309879", "ufCrm_1747309879"),
        ("UF_CRM_1721244707107", "ufCrm_1721244707107"),
    ],
)
def test_documented_vectors(original: str, converted: str) -> None:
    assert to_camel(original) == converted


def test_letters_without_type_number_follow_the_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    assert to_camel("UF_CRM_DEAL_AWARD") == "ufCrm_DEAL_AWARD"
    monkeypatch.setattr(ufnames, "LETTERS_WITHOUT_TYPE_NUMBER", "regular")
    assert to_camel("UF_CRM_DEAL_AWARD") == "ufCrmDealAward"


def test_non_uf_names_are_left_alone() -> None:
    assert to_camel("TITLE") == "TITLE"


def test_a_name_that_would_shadow_another_field_keeps_the_original() -> None:
    names = rest_names(["UF_CRM_5_AMOUNT", "UF_CRM_5_TITLE"], reserved=["ufCrm5Title"])
    assert names == {"UF_CRM_5_AMOUNT": "ufCrm5Amount", "UF_CRM_5_TITLE": "UF_CRM_5_TITLE"}


def test_collision_switch_lets_the_first_keep_the_camel_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ufnames, "to_camel", lambda name: "ufCrm5Same")
    assert rest_names(["UF_CRM_5_X", "UF_CRM_5_Y"]) == {"UF_CRM_5_X": "UF_CRM_5_X", "UF_CRM_5_Y": "UF_CRM_5_Y"}
    monkeypatch.setattr(ufnames, "COLLISION_KEEPS_ALL_ORIGINAL", False)
    assert rest_names(["UF_CRM_5_X", "UF_CRM_5_Y"]) == {"UF_CRM_5_X": "ufCrm5Same", "UF_CRM_5_Y": "UF_CRM_5_Y"}
