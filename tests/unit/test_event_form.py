"""The event edge parses its urlencoded body itself (``b24app.web.events._form``): it must decode exactly
what werkzeug's ``request.form`` gives to :func:`phpform.decode`, for any body."""

from __future__ import annotations

import pytest
from flask import Flask, request
from hypothesis import given, settings
from hypothesis import strategies as st

from b24app import phpform
from b24app.web.events import _form

FORM = "application/x-www-form-urlencoded"
app = Flask("event-form-test")

#: Pieces of hostile and ordinary bodies: separators, brackets, escapes (valid, invalid, non-UTF-8), raw bytes.
PIECES = st.sampled_from([b"&", b"=", b"[", b"]", b"[]", b"+", b"%", b"%2", b"%20", b"%5B", b"%5D", b"%ff",
                          b"%C3%A9", b"%D0%97", b"\xd0\x97", b"\xff", b"event", b"auth", b"data", b"0", b"1",
                          b"ID", b"\xe2\x80\x8b", b";", b" "])


def both(body: bytes, content_type: str = FORM) -> tuple[object, object]:
    with app.test_request_context("/b24/events", method="POST", data=body, content_type=content_type):
        ours = _form()
    with app.test_request_context("/b24/events", method="POST", data=body, content_type=content_type):
        theirs = phpform.decode(request.form.items(multi=True))
    return ours, theirs


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=40).map(b"".join))
def test_any_body_decodes_as_through_werkzeugs_form(body: bytes) -> None:
    ours, theirs = both(body)
    assert ours == theirs


@pytest.mark.parametrize("body", [
    phpform.encode({"event": "ONCRMDYNAMICITEMUPDATE", "data": {"FIELDS": {"ID": "22"}},
                    "auth": {"member_id": "m", "application_token": "t"}}).encode(),
    b"event=ONX&data[FIELDS][ID]=1&data[FIELDS][ID]=2&ids[]=a&ids[]=b&empty=&novalue",
    "event=Заявка+№1&data[title]=%D0%97%ff".encode(),
    b"\xff\xfe=1",
])
def test_known_bodies(body: bytes) -> None:
    ours, theirs = both(body)
    assert ours == theirs


def test_a_form_past_the_key_limit_is_refused() -> None:
    body = "&".join(f"k{i}=v" for i in range(phpform.MAX_KEYS + 1)).encode()
    with app.test_request_context("/b24/events", method="POST", data=body, content_type=FORM), \
            pytest.raises(phpform.FormTooComplex):
        _form()


def test_a_multipart_body_goes_through_werkzeug() -> None:
    ours, theirs = both(b"--x\r\nContent-Disposition: form-data; name=\"event\"\r\n\r\nONX\r\n--x--\r\n",
                        "multipart/form-data; boundary=x")
    assert ours == theirs == {"event": "ONX"}
