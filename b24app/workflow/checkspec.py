"""The ``checks:`` key of a workflow file: what the actor of one step is shown before approving.

```yaml
checks:
  step: finance_review   # whose task, tab and Telegram message show the checks
  contract: warn         # the linked contract is not signed, or the payment exceeds what is left: warn | block
  duplicates: warn       # the same invoice on another request: warn | block
```
"""

from __future__ import annotations

from collections.abc import Sequence

from b24app.workflow.models import CHECK_MODES, Checks, Step, TypeSpec
from b24app.workflow.schema import Reader
from b24app.yamlio import LocatedDict

KEYS = ("step", "contract", "duplicates")


def parse_checks(reader: Reader, data: LocatedDict, steps: Sequence[Step], spec: TypeSpec) -> Checks | None:
    if "checks" not in data:
        return None
    body = reader.mapping(data.get("checks"), data, "checks", "'checks'")
    if body is None:
        return None
    reader.keys(body, "'checks'", ("step",), KEYS[1:])
    step = reader.string(body, "step", "'checks'") or ""
    codes = [s.code for s in steps]
    if step and step not in codes:
        reader.add(body, f"'checks': step {step!r} is not a step of this workflow; steps: {', '.join(codes)}", "step")
    modes = {key: _mode(reader, body, key) for key in KEYS[1:]}
    if "contract" in body and not spec.parents:
        reader.add(body, "'checks': 'contract' needs a linked contract; add the contracts workflow to "
                   "'type: parents'", "contract")
    return Checks(step, modes["contract"], modes["duplicates"])


def _mode(reader: Reader, body: LocatedDict, key: str) -> str:
    value = body.get(key, "warn")
    if value not in CHECK_MODES:
        reader.add(body, f"'checks': {key!r} is {value!r}; use one of: {', '.join(CHECK_MODES)}", key)
        return "warn"
    return str(value)
