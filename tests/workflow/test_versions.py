"""Contract versions (#16), pure: each new file is a version entry; a version after approvals restarts
approval at ``versions.restart_at``; earlier approvers are told once per version; the final approval is made
only on the version the previous approver approved."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from b24app.workflow import versions
from b24app.workflow.actions import LogTimeline, Notify, PersonDecision, Refuse
from b24app.workflow.config import load_org_config
from b24app.workflow.effects import position_of
from b24app.workflow.engine import decide
from b24app.workflow.loader import parse_workflow
from b24app.workflow.models import Versions
from b24app.workflow.snapshot import FileInfo
from b24app.yamlio import loads
from tests.workflow.engine_world import DIRECTOR, FINANCE, HEAD, INITIATOR, NOW, ROOT, World, of

LAWYER = 13
FIELDS = {"SUBJECT": "Поставка", "AMOUNT": "10|RUB", "CONTRACT_FILE": [{"id": 1}]}


def _file(file_id: int) -> FileInfo:
    return FileInfo(file_id, f"договор-{file_id}.pdf", f"{file_id:064x}", f"https://p/ajax.php?fileId={file_id}")


def contract() -> World:
    world = World.new("contracts", fields=dict(FIELDS))
    world.snap = replace(world.snap, version_file=_file(1), updated_by=INITIATOR)
    world.run()
    return world


def upload(world: World, file_id: int, by: int = INITIATOR) -> list:
    world.snap = replace(world.snap, version_file=_file(file_id), updated_by=by,
                         fields={**world.snap.fields, "CONTRACT_FILE": [{"id": file_id}]})
    return world.run()


def test_the_first_file_is_version_1_and_each_approval_carries_the_version_it_approved() -> None:
    world = contract()
    world.decide(HEAD, "approve")
    [first] = versions.entries(world.snap.log)
    assert (first.decision, first.version, first.file, first.by) == ("version", 1, 1, INITIATOR)
    assert first.file_name == "договор-1.pdf" and first.sha256 == f"{1:064x}" and first.url.endswith("fileId=1")
    approval = world.snap.log[-1]
    assert approval.decision == "approve" and approval.version == 1
    assert position_of(world.workflow, world.snap).step == "legal_review"   # the version entry moved nothing


def test_a_new_version_after_the_heads_approval_restarts_at_the_head_and_tells_the_head_once() -> None:
    world = contract()
    world.decide(HEAD, "approve")
    round_before = world.snap.log[-1].round

    actions = upload(world, 2)

    restart = world.snap.log[-1]
    assert (restart.decision, restart.version, restart.round) == ("restart", 2, round_before + 1)
    assert world.snap.stage == "HEAD_APPROVAL" and restart.approver == HEAD
    told = [n for n in of(Notify, actions) if n.tag.endswith(f":v2:changed:{HEAD}")]
    assert len(told) == 1 and "версия 2" in told[0].message.ru and "согласовали версию 1" in told[0].message.ru
    assert "Согласование руководителем" in told[0].message.ru        # where approval restarted
    again = world.run()                                             # a duplicated, late event
    assert world.snap.log[-1] == restart
    assert {n.tag for n in of(Notify, again)} >= {told[0].tag}       # the same tag: sent once (deduplicated)
    assert [t for t in world.created if t.marker.endswith(f"r{restart.round}:head_approval")]


def test_a_version_before_anyone_approved_is_recorded_without_restarting() -> None:
    world = contract()
    actions = upload(world, 2)
    assert world.snap.log[-1].decision == "version" and world.snap.log[-1].version == 2
    assert world.snap.stage == "HEAD_APPROVAL" and not of(Notify, [a for a in actions if ":changed:" in
                                                                  getattr(a, "tag", "")])
    assert any(isinstance(a, LogTimeline) and a.key.endswith(f":e{world.snap.log[-1].seq}") for a in actions)
    world.decide(HEAD, "approve")
    assert world.snap.log[-1].version == 2 and world.snap.stage == "LEGAL_REVIEW"


def test_every_earlier_approver_is_told_which_version_they_approved() -> None:
    world = contract()
    world.decide(HEAD, "approve")
    world.decide(LAWYER, "approve")
    actions = upload(world, 2)
    tags = {n.tag for n in of(Notify, actions) if ":changed:" in n.tag}
    assert tags == {f"b24app:contracts:7:v2:changed:{HEAD}", f"b24app:contracts:7:v2:changed:{LAWYER}"}
    for user in (HEAD, LAWYER, FINANCE):
        world.decide(user, "approve")
    actions = upload(world, 3)                                      # at signing: a third version
    tags = {n.tag for n in of(Notify, actions) if ":v3:changed:" in n.tag}
    assert tags == {f"b24app:contracts:7:v3:changed:{u}" for u in (HEAD, LAWYER, FINANCE)}
    assert world.snap.stage == "HEAD_APPROVAL"


def test_an_approval_made_in_someones_place_tells_both_the_one_who_saw_it_and_the_one_it_counted_for() -> None:
    world = contract()
    world.decide(HEAD, "approve")
    approval = world.snap.log[-1]
    SUBSTITUTE = 77
    log = (*world.snap.log[:-1], replace(approval, by=SUBSTITUTE, on_behalf_of=HEAD))
    latest = replace(versions.entries(world.snap.log)[0], version=2, by=INITIATOR)
    assert versions._approved_before(log, latest) == {SUBSTITUTE: 1, HEAD: 1}
    assert versions._approved_before(log, replace(latest, by=SUBSTITUTE)) == {HEAD: 1}   # not the uploader


def test_a_decision_made_before_the_new_version_was_recorded_is_refused_and_approval_restarts() -> None:
    world = contract()
    for user in (HEAD, LAWYER, FINANCE):
        world.decide(user, "approve")
    assert world.snap.stage == "SIGNING"
    world.snap = replace(world.snap, version_file=_file(2), updated_by=INITIATOR)   # its event not yet handled

    world.decide(DIRECTOR, "approve")

    assert world.snap.stage == "HEAD_APPROVAL" and world.snap.log[-1].decision == "restart"
    assert "SIGNED" not in [e.stage for e in world.snap.log]
    assert world.refused and "версия 2" in world.refused[-1][1] and world.refused[-1][0] == DIRECTOR


def test_the_final_approval_is_refused_when_the_previous_approver_saw_another_version() -> None:
    world = contract()
    world.workflow = replace(world.workflow, versions=Versions("CONTRACT_FILE", "finance_review"))
    world.decide(HEAD, "approve")
    world.decide(LAWYER, "approve")                                 # at finance review (the restart step)
    world.decide(FINANCE, "approve")                                # approved version 1; at signing
    # version 2 recorded while the request stood before the restart step would not restart; simulate the
    # log an older app wrote: a plain version entry after the finance manager's approval
    log = world.snap.log
    entry = replace(versions.entries(log)[0], seq=log[-1].seq + 1, version=2, file=2, at=NOW.isoformat())
    world.snap = replace(world.snap, log=(*log, entry), version_file=_file(2))

    actions = decide(world.workflow, world.snap, PersonDecision(DIRECTOR, "approve"), NOW, world.ctx)
    world.apply(actions)

    [refusal] = of(Refuse, actions)
    assert "предыдущий согласующий утвердил версию 1 (договор-1.pdf)" in refusal.message.ru
    assert world.snap.stage == "FINANCE_REVIEW" and world.snap.log[-1].decision == "restart"


def test_restart_at_defaults_to_the_first_step_and_is_validated(tmp_path: Path) -> None:
    org, _ = load_org_config(ROOT / "config")
    text = (ROOT / "workflows" / "contracts.yaml").read_text(encoding="utf-8")
    plain = text.replace("versions: {field: CONTRACT_FILE, restart_at: head_approval}", "versions: {field: CONTRACT_FILE}")
    workflow, problems = parse_workflow(loads(plain, "contracts.yaml"), "contracts.yaml", org)
    assert problems == [] and workflow is not None and workflow.versions == Versions("CONTRACT_FILE", "head_approval")
    bad = text.replace("restart_at: head_approval", "restart_at: nowhere")
    _, problems = parse_workflow(loads(bad, "contracts.yaml"), "contracts.yaml", org)
    assert any("unknown step 'nowhere'" in p.message for p in problems)


def test_the_tab_lists_the_versions_newest_first_with_who_approved_each() -> None:
    from b24app.escalation.standing import version_rows

    world = contract()
    world.decide(HEAD, "approve")
    upload(world, 2, by=LAWYER)
    world.decide(HEAD, "approve")

    rows = version_rows(world.snap)

    assert [(r.number, r.current, r.by, r.approved_by) for r in rows] == [(2, True, LAWYER, (HEAD,)),
                                                                          (1, False, INITIATOR, (HEAD,))]
    assert rows[0].url.endswith("fileId=2") and rows[1].file_name == "договор-1.pdf"
