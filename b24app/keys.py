"""Every Redis key the app keeps, with its lifetime — one place.

A key is built by a function (or named by a constant) of this module, never spelled elsewhere; each
family's TTL sits beside it. The families: the item pipeline, escalation and handlers; installations,
tokens and app credentials (``b24app.auth``); the web edge (install hand-off, widget tickets and
identities, event coalescing); REST pacing (``b24app.rest.pacing``); Telegram (:func:`tg`). The strings
are what stored data is found under: changing one loses that data (``tests/unit/test_keys.py`` pins them).
"""

from __future__ import annotations

from datetime import date

DAY = 24 * 3600

# -- the item pipeline ---------------------------------------------------------------------------------

#: Display names of a portal's people (a hash: user id -> name).
NAMES_TTL = DAY
#: A notification / timeline entry sent, a task created, a task's item: remembered this long.
SENT_TTL = 90 * DAY
#: The app's own Bitrix24 user (trusted task creator).
APP_USER_TTL = DAY
#: The ids of the tasks the app created for an item.
CREATED_TTL = 180 * DAY
#: The app's copy of the approval log it wrote last (tells a rollback).
RECORD_TTL = 730 * DAY
#: A portal's enumeration values of a field (id -> text).
ENUM_TTL = DAY
#: A downloaded file's name, size and SHA-256: a file id's content never changes (a new upload is a new id).
FILE_DIGEST_TTL = 730 * DAY
#: the finance review's checks planned ahead (``b24app.pipeline.links.ahead``): until the item reaches the step
LINK_PLAN_TTL = 30 * DAY


def names(member_id: str) -> str:
    return f"b24app:names:{member_id}"


def heads(member_id: str) -> str:
    """Department heads seen on routes: read with the roles in each item's one batch (``im.user.list.get``)."""
    return f"b24app:heads:{member_id}"


def item_lock(member_id: str, entity_type_id: int, item_id: int) -> str:
    return f"b24app:lock:item:{member_id}:{entity_type_id}:{item_id}"


def sent(member_id: str, key: str) -> str:
    """A notification or timeline entry sent under its deterministic key."""
    return f"b24app:sent:{member_id}:{key}"


def task(member_id: str, marker: str) -> str:
    """The id of the task created for a marker."""
    return f"b24app:task:{member_id}:{marker}"


def task_item(member_id: str, task_id: int | str) -> str:
    """Where a task the app created leads (``{workflow}:{item id}``), so task events need no lookup."""
    return f"b24app:taskitem:{member_id}:{task_id}"


def app_user(member_id: str) -> str:
    return f"b24app:appuser:{member_id}"


def created(member_id: str, entity_type_id: int, item_id: int) -> str:
    return f"b24app:created:{member_id}:{entity_type_id}:{item_id}"


def decisions_record(member_id: str, entity_type_id: int, item_id: int) -> str:
    return f"b24app:decisions:{member_id}:{entity_type_id}:{item_id}"


def enums(member_id: str, entity_type_id: int) -> str:
    return f"b24app:enums:{member_id}:{entity_type_id}"


def file_digest(member_id: str, file_id: int) -> str:
    """A crm file's digest (``b24app.pipeline.files``): downloaded once per file id."""
    return f"b24app:filedigest:{member_id}:{file_id}"


def link_plan(member_id: str, entity_type_id: int, item_id: int) -> str:
    """The links batch's commands, planned ahead to ride the item's read (``b24app.pipeline.links.ahead``)."""
    return f"b24app:linkplan:{member_id}:{entity_type_id}:{item_id}"


def mapping(member_id: str) -> str:
    """The portal's ids of the provisioned types, stages and fields."""
    return f"b24app:mapping:{member_id}"


# -- lost events ---------------------------------------------------------------------------------------

#: The offline queue's reserved ``process_id`` kept for the next sweep.
OFFLINE_PENDING_TTL = 7 * DAY


def offline_pending(member_id: str) -> str:
    return f"b24app:offline:pending:{member_id}"


# -- escalation ----------------------------------------------------------------------------------------

#: A delivery (or the day's digest) claimed by a sweep that is sending it.
CLAIM_TTL = 600
#: A reminder or alert delivered.
ESCALATION_SENT_TTL = 90 * DAY
#: The day's digest sent.
DIGEST_SENT_TTL = 7 * DAY


def escalation(member_id: str, delivery: str) -> str:
    """One delivery of a reminder or an alert (``Notice.deliveries``)."""
    return f"b24app:esc:{member_id}:{delivery}"


def escalation_history(member_id: str, entity_type_id: int, item_id: int) -> str:
    """The reminders and alerts delivered about one item (a hash: delivery -> "action|user|ISO time"),
    kept as long as the delivery markers; the approval tab lists them without a REST request."""
    return f"b24app:esc-history:{member_id}:{entity_type_id}:{item_id}"


def sweep_totals(member_id: str) -> str:
    """Each workflow's open-item count at the last sweep (a hash), so the next one plans its pages."""
    return f"b24app:sweep-totals:{member_id}"


def digest(member_id: str, day: date) -> str:
    return f"b24app:digest:{member_id}:{day.isoformat()}"


# -- the app ------------------------------------------------------------------------------------------

#: The generated app secret, when ``B24APP_SECRET_KEY`` is not set and there is no client secret.
APP_SECRET = "b24app:app-secret"


def feature(member_id: str, code: str) -> str:
    """What ``feature.get`` answered for ``code`` on this portal (the plan), cached for a day."""
    return f"b24app:feature:{member_id}:{code}"


def reconciled(member_id: str) -> str:
    """When the sweep last read the items changed since (plans without ``rest_offline_extended``)."""
    return f"b24app:reconciled:{member_id}"


# -- echoes of the app's own writes (b24app.pipeline.echo) ----------------------------------------------

#: How long an expected echo waits for its event; a lost echo's expectation expires.
ECHO_TTL = 600
#: The moments (portal seconds) of the app's last read and last write of an item (offline-row filter).
SEEN_TTL = 7 * DAY


def echo(member_id: str, kind: str, object_id: int | str) -> str:
    """The app's own writes of an object (``item:{etid}:{id}`` or ``task:{id}``) whose events are still due."""
    return f"b24app:echo:{member_id}:{kind}:{object_id}"


def seen(member_id: str) -> str:
    """A hash: ``{etid}:{item id}`` -> ``{read second}|{write second}|{earliest open-task deadline}`` of the app's last processing."""
    return f"b24app:seen:{member_id}"


# -- installations, tokens and app credentials (b24app.auth) ------------------------------------------

#: The set of every member id ever installed.
INSTALLATIONS = "b24app:installations"
#: The per-portal app credentials (a hash: domain -> encrypted pair).
PORTAL_CREDENTIALS = "b24app:portal-credentials"
#: An install claim waiting for its proof (never used for a REST call).
INSTALL_PENDING_TTL = 3600
#: How long an uninstall announcement is remembered, and an operations alert is not repeated.
ANNOUNCED_TTL = DAY
ALERT_TTL = DAY
#: One uninstall check queued per portal at a time, at most this long.
UNINSTALL_CHECK_TTL = 300
#: A counter numbering the uninstall checks' job ids.
UNINSTALL_CHECKS = "b24app:uninstall-checks"


def installation(member_id: str) -> str:
    """A hash: the installation's domain, endpoint, tokens, client id and removed flag."""
    return f"b24app:installation:{member_id}"


def refresh_lock(member_id: str) -> str:
    return f"b24app:lock:refresh:{member_id}"


def refresh_count(member_id: str) -> str:
    return f"b24app:stats:oauth_refresh:{member_id}"


def install_pending(member_id: str) -> str:
    return f"b24app:install-pending:{member_id}"


def portal_refused(member_id: str) -> str:
    """Set while the portal refuses the app's tokens for good (``*`` matches every portal)."""
    return f"b24app:portal-refused:{member_id}"


def uninstall_announced(member_id: str) -> str:
    return f"b24app:uninstall-announced:{member_id}"


def uninstall_check(member_id: str) -> str:
    return f"b24app:uninstall-check:{member_id}"


def alerted(what: str) -> str:
    """An operations alert said (once a day)."""
    return f"b24app:alerted:{what}"


# -- the web edge (b24app.web) ----------------------------------------------------------------------------

def widget_ticket(nonce: str) -> str:
    return f"b24app:widget:ticket:{nonce}"


def widget_identity(digest: str) -> str:
    """Who a posted widget token belongs to (by a hash of portal and token, never the token)."""
    return f"b24app:widget:who:{digest}"


def event_pending(digest: str) -> str:
    """Set while a job for this event is queued; the job deletes it as it starts."""
    return f"b24app:event-pending:{digest}"


def event_generation(digest: str) -> str:
    return f"b24app:event-generation:{digest}"


# -- REST pacing (b24app.rest.pacing) ---------------------------------------------------------------------

def bucket(portal: str) -> str:
    """A portal's leaky bucket (``{host}`` or ``{host}:identity``)."""
    return f"b24app:bucket:{portal}"


def pause(portal: str) -> str:
    """The prefix of a portal's per-method pauses (the method name follows)."""
    return f"b24app:pause:{portal}:"


# -- Telegram ------------------------------------------------------------------------------------------

#: Every Telegram key starts so (the outbox's Lua script builds ``outbox:`` and ``pace:chat:`` keys from it).
TG = "b24app:tg:"


def tg(kind: str, *parts: object) -> str:
    """A Telegram key: ``b24app:tg:{kind}[:{part}...]``. The families (see the modules that keep them):
    links (:mod:`b24app.telegram.links`): ``token:{token}``, ``link:{member}:{user}``, ``chatlinks:{chat}``
    (member -> user, one per portal), ``chat:{chat}`` (the single link of earlier releases, read and migrated),
    ``members:{member}``; presses (:mod:`b24app.telegram.callbacks`): ``cb:{ref}``, ``decided:{step}``,
    ``deciding:{step}``, ``stepmsgs:{step}``, ``reason:{chat}``, ``round:{member}:{etid}:{item}``;
    updates: ``update:{update id}``; the outbox (:mod:`b24app.notify.telegram`): ``outbox:{chat}``, ``ready``,
    ``pace:chat:{chat}``, ``pace:global``, ``pace:blocked``, ``dispatcher``, ``attempts``, ``dead``."""
    return TG + ":".join([kind, *map(str, parts)])


# -- the control room (issue 15) -------------------------------------------------------------------------

#: One control-room view of a portal (its data, before filters) is kept this long.
CONTROL_TTL = 60
#: The portal's people (name, departments) and department names the control room shows, kept this long.
CONTROL_PEOPLE_TTL = 3600


def control_view(member_id: str) -> str:
    """The last control-room view of a portal (JSON), shared by everyone who opens it within a minute."""
    return f"b24app:control:view:{member_id}"


def control_people(member_id: str) -> str:
    """The portal's people and departments as the control room last read them (JSON)."""
    return f"b24app:control:people:{member_id}"


def control_admin(member_id: str, user_id: int) -> str:
    """Whether a person is a portal administrator (``user.admin`` with their own token)."""
    return f"b24app:control:admin:{member_id}:{user_id}"


def control_clock(member_id: str) -> str:
    """How far the portal's clock is from ours (seconds), as the last control-room view saw it."""
    return f"b24app:control:clock:{member_id}"


def control_app_id(member_id: str) -> str:
    """The local app's ``ID`` on a portal (``app.info``), for the control room's address in the portal."""
    return f"b24app:control:app-id:{member_id}"


# -- the bank round trip (issue #18, b24app.bank.store) ----------------------------------------------

#: What a portal's bank exchange keeps, by ``kind``: ``applied`` (hash: bank document key -> the request
#: it paid), ``pending`` (hash: document key -> the line waiting for the accountant), ``uploads`` (list,
#: newest first), ``order-number`` (the last payment-order number issued), ``folder`` (the app's Drive
#: folder for statement extracts), ``import`` (the lock of one import at a time). Kept without expiry: an
#: accounting record.
BANK_KINDS = ("applied", "pending", "uploads", "order-number", "order-numbers", "folder", "import")


def bank(member_id: str, kind: str) -> str:
    if kind not in BANK_KINDS:
        raise ValueError(f"unknown bank key kind {kind!r}")
    return f"b24app:bank:{member_id}:{kind}"
