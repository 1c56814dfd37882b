"""Where the sandbox's id counters start (``state.next_id(kind, start)``).

Ids that all start at 1 hide mix-ups: a ``crm.type`` ``id`` passed where an ``entityTypeId``, a
category id or an item id is expected would often hit an existing object. Each counter therefore
starts at its own documented-looking value, so such a call fails as it would on a real portal:

* ``crm.type`` ``id``: from 7 (REFERENCE §0.1 example: ``id`` 7 with ``entityTypeId`` 177);
* ``entityTypeId``: even numbers from 1030 (§4.2; ``crmstore.next_entity_type_id``);
* categories: from 30 (§4.3: SPA default categories in the docs have ids like 7, 30, 37, 52);
* items: from 21 in each type — small, and apart from the type ids (7, 8, ...) and the category
  ids (30, 31, ...) while a type has fewer than ten items;
* tasks: from 3001 (the docs' task ids are in the thousands, e.g. ``"id":"3711"``, §7.1);
* stage rows (``crm.status`` ``ID``), user fields, Drive objects and the rest: from 1.
"""

from __future__ import annotations

CRM_TYPE = 7
CRM_CATEGORY = 30
CRM_ITEM = 21
TASK = 3001
