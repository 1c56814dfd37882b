"""List values named from the shapes a ``crm.item.fields`` answer may take (UNVERIFIED for SPA)."""

from __future__ import annotations

from typing import Any

import pytest

from b24app.workflow.listoptions import option_names


def answer(spec: dict[str, Any]) -> dict[str, Any]:
    return {"fields": {"ufCrm7ExpenseItem": {"type": "enumeration", "upperName": "UF_CRM_7_EXPENSE_ITEM", **spec}}}


@pytest.mark.parametrize("spec", [
    {"items": [{"ID": 41, "VALUE": "Маркетинг"}]},                        # legacy crm.*.fields
    {"items": [{"id": "41", "value": "Маркетинг"}]},
    {"ITEMS": [{"ID": "41", "NAME": "Маркетинг"}]},
    {"items": {"41": "Маркетинг"}},                                      # a PHP array with other keys
    {"items": {"41": {"ID": "41", "VALUE": "Маркетинг"}}},
    {"enum": [{"id": 41, "value": "Маркетинг", "xmlId": "MARKETING"}]},  # userfieldconfig
    {"items": [{"ID": "41", "XML_ID": "MARKETING"}]},                    # named by the workflow's code
], ids=["list", "lower", "upper-name", "map", "map-of-rows", "enum", "xml-id"])
def test_every_plausible_shape_names_the_option(spec: dict[str, Any]) -> None:
    assert option_names(answer(spec), {"MARKETING": "Маркетинг"}) == {"UF_CRM_7_EXPENSE_ITEM:41": "Маркетинг"}


@pytest.mark.parametrize("spec", [
    {}, {"items": None}, {"items": "41"}, {"items": [41, None]}, {"items": [{"ID": "41"}]},
    {"items": [{"ID": "41", "VALUE": "41"}]}, {"items": {"41": ""}}, {"items": [{"ID": "41", "XML_ID": "OTHER"}]},
])
def test_shapes_that_name_nothing_give_no_name_rather_than_the_id(spec: dict[str, Any]) -> None:
    assert option_names(answer(spec), {"MARKETING": "Маркетинг"}) == {}


def test_not_an_answer_names_nothing() -> None:
    assert option_names(None) == {} and option_names({"fields": [{"items": []}]}) == {} and option_names({"fields": {"x": 1}}) == {}
