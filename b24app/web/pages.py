"""What the app's own pages in the portal share (the control room, the accounting view): the admission
of a frame-open form, their signed passes, the language.

:func:`admit` identifies the person of a frame-open form (:func:`b24app.web.placement_auth.identify`)
and applies the page's rule before anything is read for them; a form that proves nobody, a busy identity
budget or a failing portal gets the page's polite message (403, 503, 502) instead. A :class:`Passes`
signs a page's pass with the page's own salt (a pass of one page opens no other) and refuses it once
older than :data:`PASS_TTL`; a pass names the portal, the person and the language — never a token.
The pages' links carry the pass in their query, so every answer says ``Referrer-Policy: no-referrer``
(:func:`no_referrer`): a click to a portal card or a file sends no address with a pass to anyone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import Response, current_app, request
from flask.typing import ResponseReturnValue
from itsdangerous import BadSignature, URLSafeTimedSerializer

from b24app.deps import Deps
from b24app.errors import B24AppError
from b24app.rest.client import RestClient
from b24app.web.identity import IdentityBusy, WidgetAuthError
from b24app.web.placement_auth import Person, identify

log = logging.getLogger(__name__)

#: How long a page's pass opens it (seconds).
PASS_TTL = 30 * 60

T = TypeVar("T")
#: A page's message: (text key, HTTP status) -> the rendered page.
Message = Callable[[str, int], ResponseReturnValue]


@dataclass(frozen=True)
class Admitted(Generic[T]):
    """A person identified by their frame-open form, their own client, and what the page's rule said."""

    person: Person
    as_user: RestClient
    verdict: T


def admit(deps: Deps, what: str, message: Message,
          rule: Callable[[Person, RestClient], T]) -> Admitted[T] | ResponseReturnValue:
    """The person of this request's frame-open form and the verdict of ``rule`` on them, or the page's
    refusal (``what`` names the page in the log)."""
    try:
        person, _, as_user = identify(request.form, request.args, deps)
        verdict = rule(person, as_user)
    except IdentityBusy:
        return message("unavailable", 503)
    except WidgetAuthError as exc:
        log.info("%s refused: %s", what, exc)
        return message("not_authenticated", 403)
    except B24AppError as exc:
        log.warning("%s: the portal failed: %s", what, exc)
        return message("unavailable", 502)
    return Admitted(person, as_user, verdict)


class Passes:
    """A page's signed passes (its own ``salt``; valid :data:`PASS_TTL` seconds)."""

    def __init__(self, salt: str) -> None:
        self.salt = salt

    def issue(self, data: dict[str, Any]) -> str:
        return self._serializer().dumps(data)

    def read(self, source: Mapping[str, Any]) -> tuple[dict[str, Any], str] | None:
        """The pass of ``source`` (a query or a form: ``pass``) and its data; None when it is missing,
        forged, of another page, expired, or names no portal and person."""
        token = str(source.get("pass") or "")
        try:
            data = self._serializer().loads(token, max_age=PASS_TTL)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("m"), str) or not isinstance(data.get("u"), int):
            return None
        return data, token

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(str(current_app.config["SECRET_KEY"]), salt=self.salt)


def no_referrer(response: Response) -> Response:
    """``after_request`` of the pages' blueprints: no page of theirs sends its address (and pass) on."""
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def lang_of(value: Any) -> str:
    """``en`` for any English language code, Russian otherwise."""
    return "en" if str(value or "").lower().startswith("en") else "ru"
