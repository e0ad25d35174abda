"""Schema fuzzing: schemathesis generates requests from the app's own OpenAPI schema, valid ones
(positive) and invalid ones (negative), for every operation of /api, /api/builder and /v1, and
sends them in-process to the app on the fake backend. No answer may be a 5xx, and every answer
must be documented: its status, its content type and its body's schema.

Bounded: ``SCHEMA_FUZZ_EXAMPLES`` (default 25) cases per operation and mode on SQLite, a third of
that on PostgreSQL (where NUL characters and 64-bit overflows used to fail differently). The
cases are not shrunk; every failure is collected and reported together.
"""

from __future__ import annotations

import collections
import os
import uuid

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.core.failures import FailureGroup  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from masterhall import load_settings  # noqa: E402
from masterhall.hall import build_hall  # noqa: E402
from masterhall.store import Store  # noqa: E402
from masterhall.web.app import create_app  # noqa: E402

EXAMPLES = int(os.environ.get("SCHEMA_FUZZ_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _summary(exc: BaseException) -> str:
    parts = getattr(exc, "exceptions", None) or [exc]
    return "; ".join(f"{getattr(p, 'title', type(p).__name__)}: {str(getattr(p, 'message', p))[:160]}" for p in parts)


def fuzz(app, examples: int, known: dict[str, str]) -> tuple[int, dict, dict]:
    """Run every operation of ``app``'s schema, positive then negative, with generated path
    parameters (mostly ids that do not exist) and again, except deletions, with the ``known``
    ids of things that exist (``conversation_id``, ``master_id`` …), so that the operations on
    them see generated bodies and queries too. ``(cases, failures, statuses)``: failures map
    ``(operation, summary)`` to the first failing case's report; statuses count the passing
    cases' answers by class (2 for 2xx …)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: dict = {}
    cases = collections.Counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        names = {p.name for p in operation.path_parameters}
        passes = [{}] + ([{n: known[n] for n in names if n in known}] if names & set(known) and operation.method != "delete" else [])
        for path_parameters in passes:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                try:
                    _run(operation, mode, examples, cases, failures, path_parameters)
                except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                    pass
    statuses = cases.pop("statuses", {})
    return sum(cases.values()), failures, dict(sorted(statuses.items()))


def _run(operation, mode, examples: int, cases: collections.Counter, failures: dict, path_parameters: dict) -> None:
    statuses = cases.setdefault("statuses", collections.Counter())
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters or None))
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def run(case):
        cases[operation.label] += 1
        try:
            statuses[case.call_and_validate(checks=CHECKS).status_code // 100] += 1
        except (Exception, FailureGroup) as exc:  # noqa: BLE001 - collected, reported by the test
            failures.setdefault((operation.label, _summary(exc)), str(exc)[:3000])

    run()


@pytest.fixture(params=["sqlite", "postgresql"])
def fuzz_app(request, tmp_path, fake):
    """The app on a fresh database of each kind with a conversation and a draft master, how many
    cases to run per operation and mode, and the ids of what exists."""
    import sqlalchemy as sa

    if request.param == "sqlite":
        url, examples, admin, name = f"sqlite:///{tmp_path / 'hall.db'}", EXAMPLES, None, None
    else:
        admin = request.getfixturevalue("pg_admin")
        if isinstance(admin, str):
            pytest.skip(admin)
        name = f"mh_fuzz_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url, examples = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", max(1, EXAMPLES // 3)
    store = Store(url)
    hall = build_hall(load_settings(backend="fake", allowed_hosts=["testserver"]), store=store, flush_interval_s=0.05)
    hall.registry.register(fake)
    turn = hall.chat.send("What is courage?", master_id="socrates")
    assert turn.done.wait(10)
    draft = hall.library.fork("socrates", "socrates-draft")
    known = {"conversation_id": turn.conversation.id, "master_id": draft.id, "source_id": "socrates"}
    yield create_app(hall, load_model=False), examples, known
    store.close()
    if name is not None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_schema_fuzz_finds_no_server_error_and_no_undocumented_answer(fuzz_app, capsys):
    app, examples, known = fuzz_app
    cases, failures, statuses = fuzz(app, examples, known)
    with capsys.disabled():
        print(f"\nschema fuzz: {cases} cases, {len(failures)} distinct failures, answers by class {statuses}")
    assert cases > 0 and statuses.get(2, 0) > cases // 10, statuses  # not everything refused
    assert not failures, "\n\n".join(f"{label}: {summary}\n{report}" for (label, summary), report in failures.items())
