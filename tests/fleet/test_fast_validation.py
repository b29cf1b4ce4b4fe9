"""The ingest's fast validator (jsonschema-rs) answers yes exactly when the reference
(``jsonschema``, whose messages name the field) finds no problem: on every kind's valid
payloads and on payloads broken in the ways hypothesis finds."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from fleet import testing as t
from fleet.ingest import _compiled
from fleet.schemas import errors as schema_errors

SAMPLES: dict[str, list[dict[str, Any]]] = {
    "presence": [t.presence("K0001", True), t.presence("K0001", False, reason="lwt")],
    "birth": [t.birth("K0001", "370102")],
    "health": [t.health("K0001"), t.health("K0001", paper="out", idcard="unavailable",
                                             depth=12, outbox_alarm=True)],
    "rating": [t.rating("K0001", "370102"), t.rating("K0001", "370102", "very_dissatisfied"),
               t.rating("K0001", "370102", "not_rated"),
               t.rating("K0001", "370102", "dissatisfied", sealed="c2VhbGVk" * 40,
                        key_id="0123456789abcdef")],
    "event": [t.session_event("K0001"), t.session_event("K0001", "abandoned")],
    "command_result": [t.command_result("K0001", "c-1"),
                       t.command_result("K0001", "c-2", "refused", "expired")],
}

JUNK = st.one_of(st.none(), st.booleans(), st.integers(-3, 10**12), st.floats(allow_nan=False),
                 st.text(max_size=12), st.lists(st.integers(), max_size=3),
                 st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            out += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            out += _paths(inner, (*prefix, index))
    return out


def _agrees(payload: Any, kind: str) -> bool:
    fast = _compiled(kind)
    assert fast is not None, "jsonschema-rs or fastjsonschema is installed by make setup"
    return fast(payload) == (schema_errors(payload, kind) == [])


def test_every_sample_is_valid_for_both() -> None:
    for kind, payloads in SAMPLES.items():
        for payload in payloads:
            assert _compiled(kind)(payload), kind  # type: ignore[misc]
            assert schema_errors(payload, kind) == [], kind


@settings(max_examples=300, deadline=None, derandomize=True)
@given(data=st.data())
def test_broken_payloads_get_the_same_answer(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(sorted(SAMPLES)))
    payload = copy.deepcopy(data.draw(st.sampled_from(SAMPLES[kind])))
    path = data.draw(st.sampled_from(_paths(payload)))
    parent = payload
    for step in path[:-1]:
        parent = parent[step]
    if data.draw(st.booleans()) and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(JUNK)
    assert _agrees(payload, kind), (kind, path)
