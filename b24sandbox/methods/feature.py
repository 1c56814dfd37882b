"""``feature.get`` (scope ``basic``; docs/api-reference_common_system_feature-get.md).

``CODE`` is ``rest_offline_extended`` (offline events with processing confirmation) or
``rest_auth_connector``; the answer is ``{"value": "Y"|"N"}`` from ``portal.switches.features`` (the
portal's plan). No ``CODE`` → 400 ``CODE_EMPTY`` "CODE can't be empty". Another code answers
``{"value": "N"}`` (UNVERIFIED).
"""

from __future__ import annotations

from typing import Any

from b24sandbox.registry import Call, RestError, method
from b24sandbox.switches import switches


@method("feature.get", scope=None)
def feature_get(call: Call) -> dict[str, Any]:
    code = str(call.param("CODE") or "").strip()
    if not code:
        raise RestError("CODE_EMPTY", "CODE can't be empty", 400)
    return {"value": "Y" if switches(call.state).feature(code) else "N"}
