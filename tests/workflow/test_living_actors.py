"""Who acts when the portal says people are away or dismissed (issue 12) — the pure part."""

from __future__ import annotations

from b24app.workflow.actors import Person, Pick, heads_up, people_from, pick_head, pick_role

# company(1, director 2) -> marketing(2, head 3) -> digital(8, no head)
TREE = {1: (None, 2), 2: (1, 3), 8: (2, None)}


def test_the_chain_of_heads_goes_up_from_the_department_nearest_first() -> None:
    assert heads_up(TREE, [8]) == [3, 2]
    assert heads_up(TREE, [1]) == [2]


def test_an_available_head_keeps_the_step() -> None:
    assert pick_head([3, 2], {3: Person()}) == Pick(3)


def test_an_absent_head_is_skipped_with_the_reason_and_the_end_of_the_absence() -> None:
    away = {3: Person(absent_until="2026-03-04T18:00:00+03:00")}
    assert pick_head([3, 2], away) == Pick(2, 3, "absent", "2026-03-04T18:00:00+03:00")


def test_a_dismissed_head_is_skipped_and_nobody_left_means_none() -> None:
    assert pick_head([3, 2], {3: Person(active=False)}) == Pick(2, 3, "dismissed")
    assert pick_head([3, 2], {3: Person(active=False), 2: Person(active=False)}) == Pick(None)


def test_a_dismissed_role_holder_gives_way_to_the_first_available_fallback() -> None:
    people = {8: Person(active=False), 9: Person(active=False)}
    assert pick_role(8, people, (9, 2)) == Pick(2, 8, "dismissed")
    assert pick_role(8, {}, (9, 2)) == Pick(8)


def test_people_are_read_from_both_answer_shapes() -> None:
    listed = people_from({"3": {"id": 3, "active": True, "absent": "2026-03-04T18:00:00+03:00"},
                          "8": {"id": 8, "active": False, "absent": False}})
    assert listed == {3: Person(True, "2026-03-04T18:00:00+03:00"), 8: Person(False, None)}
    assert people_from({"id": 5, "active": True, "absent": False}) == {5: Person()}
