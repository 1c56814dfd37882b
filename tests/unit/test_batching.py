"""Packing several items' batch commands into shared requests (:mod:`b24app.pipeline.batching`)."""

from __future__ import annotations

from b24app.pipeline.batching import answer_of, pack
from b24app.rest.protocol import BatchResult, Command


def item_read(item_id: int) -> dict[str, Command]:
    return {"item": ("crm.item.get", {"id": item_id}),
            "tasks": ("tasks.task.list", {"filter": {"UF_CRM_TASK": f"T1_{item_id}"}}),
            "initiator": ("user.get", {"ID": "$result[item][item][createdBy]"}),
            "head": ("user.get", {"ID": ["$result[initiator][0][UF_HEAD]"]}),
            "departments": ("department.get", {})}


def test_keys_are_prefixed_references_follow_and_equal_independent_reads_are_sent_once() -> None:
    packed = pack([(7, item_read(7)), (9, item_read(9))])
    [request] = packed.requests
    keys = packed.keys[7]
    assert keys["departments"] == packed.keys[9]["departments"] and keys["tasks"] != packed.keys[9]["tasks"]
    assert list(request).count(keys["departments"]) == 1 and len(request) == 1 + 4 * 2
    assert request[keys["initiator"]] == ("user.get", {"ID": f"$result[{keys['item']}][item][createdBy]"})
    assert request[keys["head"]] == ("user.get", {"ID": [f"$result[{keys['initiator']}][0][UF_HEAD]"]})
    assert request[packed.keys[9]["item"]] == ("crm.item.get", {"id": 9})


def test_an_items_commands_never_straddle_two_requests() -> None:
    parts = [(i, item_read(i)) for i in range(40)]
    packed = pack(parts, size=10)
    assert all(len(r) <= 10 for r in packed.requests)
    for item_id, keys in packed.keys.items():
        own = [k for k in keys.values() if not k.startswith("s")]
        [holder] = [r for r in packed.requests if own[0] in r]
        assert all(k in holder for k in own), item_id
    # 3 items a request, the independent reads (40 tasks lists, 1 department list) where there is room
    assert sum(map(len, packed.requests)) == 40 * 4 + 1 and len(packed.requests) == 17


def test_writes_are_never_shared_and_a_part_too_large_is_left_alone() -> None:
    note: Command = ("im.notify.system.add", {"USER_ID": 5, "MESSAGE": "same"})
    packed = pack([(1, {"notify0": note}), (2, {"notify0": note}), (3, {f"c{n}": note for n in range(11)})],
                  share=False, size=10)
    [request] = packed.requests
    assert sorted(request) == ["p0_notify0", "p1_notify0"] and packed.alone == [3]


def test_each_part_gets_its_own_answer_under_its_own_keys() -> None:
    packed = pack([(7, item_read(7)), (9, item_read(9))])
    k7, k9 = packed.keys[7], packed.keys[9]
    answer = BatchResult(results={k7["item"]: {"item": {"id": 7}}, k7["departments"]: [{"ID": 1}], k9["initiator"]: []},
                         errors={k9["item"]: {"error": "NOT_FOUND"}}, methods={k9["item"]: "crm.item.get"},
                         first_time={"date_start": "2026-03-02T09:30:00+03:00"})
    mine = answer_of(answer, k7)
    assert mine.results == {"item": {"item": {"id": 7}}, "departments": [{"ID": 1}]} and mine.errors == {}
    theirs = answer_of(answer, k9)
    assert theirs.results == {"departments": [{"ID": 1}], "initiator": []}
    assert theirs.errors == {"item": {"error": "NOT_FOUND"}} and theirs.methods == {"item": "crm.item.get"}
    assert theirs.started == mine.started is not None
