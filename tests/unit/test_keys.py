"""The Redis key strings are where stored data is found: pinned byte for byte, so that moving or renaming a
builder can never orphan the installations, tokens, pending installs or pacing state a running deployment
already keeps."""

from __future__ import annotations

from b24app import keys

M = "a223c6b3710f85df22e9377d6c4f7553"


def test_the_installation_and_credential_keys_are_unchanged() -> None:
    assert keys.installation(M) == f"b24app:installation:{M}"
    assert keys.INSTALLATIONS == "b24app:installations"
    assert keys.PORTAL_CREDENTIALS == "b24app:portal-credentials"
    assert keys.refresh_lock(M) == f"b24app:lock:refresh:{M}"
    assert keys.refresh_count(M) == f"b24app:stats:oauth_refresh:{M}"
    assert keys.install_pending(M) == f"b24app:install-pending:{M}"
    assert keys.APP_SECRET == "b24app:app-secret"


def test_the_uninstall_keys_are_unchanged() -> None:
    assert keys.portal_refused(M) == f"b24app:portal-refused:{M}"
    assert keys.portal_refused("*") == "b24app:portal-refused:*"
    assert keys.uninstall_announced(M) == f"b24app:uninstall-announced:{M}"
    assert keys.uninstall_check(M) == f"b24app:uninstall-check:{M}"
    assert keys.UNINSTALL_CHECKS == "b24app:uninstall-checks"
    assert keys.alerted(f"refused:{M}") == f"b24app:alerted:refused:{M}"


def test_the_edge_and_pacing_keys_are_unchanged() -> None:
    assert keys.widget_ticket("n0nce") == "b24app:widget:ticket:n0nce"
    assert keys.widget_identity("ab12") == "b24app:widget:who:ab12"
    assert keys.event_pending("d1") == "b24app:event-pending:d1"
    assert keys.event_generation("d1") == "b24app:event-generation:d1"
    assert keys.bucket("portal.example") == "b24app:bucket:portal.example"
    assert keys.bucket("portal.example:identity") == "b24app:bucket:portal.example:identity"
    assert keys.pause("portal.example") == "b24app:pause:portal.example:"
    assert keys.tg("chatlinks", 1001) == "b24app:tg:chatlinks:1001"


def test_the_escalation_history_key_is_unchanged() -> None:
    assert keys.escalation_history(M, 1100, 7) == f"b24app:esc-history:{M}:1100:7"


def test_control_room_keys() -> None:
    assert keys.control_view(M) == f"b24app:control:view:{M}"
    assert keys.control_people(M) == f"b24app:control:people:{M}"
    assert keys.control_admin(M, 9) == f"b24app:control:admin:{M}:9"
    assert keys.control_clock(M) == f"b24app:control:clock:{M}"
    assert keys.control_app_id(M) == f"b24app:control:app-id:{M}"
    assert keys.CONTROL_TTL == 60


def test_the_file_digest_key_is_unchanged() -> None:
    assert keys.file_digest(M, 30577) == f"b24app:filedigest:{M}:30577"
    assert keys.FILE_DIGEST_TTL == 730 * keys.DAY


def test_bank_keys() -> None:
    assert keys.bank(M, "applied") == f"b24app:bank:{M}:applied"
    assert keys.bank(M, "uploads") == f"b24app:bank:{M}:uploads"


def test_the_link_plan_key() -> None:
    assert keys.link_plan(M, 1100, 22) == f"b24app:linkplan:{M}:1100:22"
