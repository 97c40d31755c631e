"""A referral with an attached file goes through the intake flow by id (issue 18; issue 20 "flows take ids"):
stored behind the login first, then `referral_intake_stored` (or, without a Prefect server, the same service
function) opens the case; the file's bytes are not kept twice, and a refused referral leaves nothing (PRIV-2)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from pprflow.models.tables import Case, OutboxAttachment, RunRequest, WebReferral
from tests.web import world
from tests.web.conftest import csrf, sign_in

PDF = b"%PDF-1.7\n% handleplan\n" + b"0" * 2000


def _submit(client: TestClient, form: dict[str, str]):  # type: ignore[no-untyped-def]
    page = client.get("/henvendelse/ny/ppr_individual")
    return client.post("/henvendelse/ny/ppr_individual", data={**form, "csrf_token": csrf(page.text)},
                       files={"plan_file": ("Handleplan 3.B.pdf", PDF, "application/octet-stream")})


def test_the_stored_referral_keeps_no_second_copy_PRIV_2(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.LEADER)
    response = _submit(client, world.individual_form())
    assert response.status_code == 200 and "Vedhæftet henvendelsen: Handleplan 3.B.pdf" in response.text
    case_id = int(re.search(r"sag (\d+)", response.text).group(1))  # type: ignore[union-attr]
    with Session(web_ctx.engine) as session:
        rows = session.exec(select(WebReferral)).all()
        files = session.exec(select(OutboxAttachment)).all()
        case = session.get(Case, case_id)
    assert rows == [], "the stored referral is gone once the case is opened"
    assert case is not None and files and all(f.content == PDF for f in files)


def test_a_refused_referral_with_a_file_leaves_nothing_PATH_3(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, world.LEADER)
    response = _submit(client, world.individual_form(plan_community=""))
    assert response.status_code == 400
    with Session(web_ctx.engine) as session:
        assert session.exec(select(WebReferral)).all() == [] and session.exec(select(Case)).all() == []


def test_only_its_submitter_may_submit_a_stored_referral_PRIV_4(client: TestClient, web_ctx) -> None:  # type: ignore[no-untyped-def]
    from pprflow.models.errors import AccessDenied
    from pprflow.models.referral import parse_referral
    from pprflow.tasks.context import Ctx
    from pprflow.tasks.transports.base import Attachment
    from pprflow.tasks.web_intake import store_web_referral, submit_stored_referral
    from pprflow.web import forms

    with Session(web_ctx.engine) as session:
        from pprflow.models.tables import Institution, StaffMember

        member = session.exec(select(StaffMember).where(StaffMember.email == world.LEADER)).one()
        inst = session.get(Institution, member.institution_id)
    raw = forms.referral_from_form(forms.pathway_spec("ppr_individual"), world.individual_form(), member=member,
                                   institution=inst)  # type: ignore[arg-type]
    upload = store_web_referral(web_ctx.engine, submitted_by=world.LEADER, referral=parse_referral(raw),
                                attachment=Attachment("plan.pdf", "application/pdf", PDF))
    stranger = Ctx(engine=web_ctx.engine, profile=web_ctx.profile, actor=world.STRANGER)
    with pytest.raises(AccessDenied):
        submit_stored_referral(stranger, upload)


@pytest.mark.prefect
@pytest.mark.timeout(300)
def test_a_referral_with_a_file_is_a_flow_run_on_its_id_when_a_server_is_configured(  # type: ignore[no-untyped-def]
        prefect_server: None, client: TestClient, web_ctx, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.settings import PREFECT_API_URL

    from tests.flows._env import no_heartbeat

    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
    for name, value in (("PPRFLOW_DATABASE_URL", sqlite_url), ("PPRFLOW_PROFILE", "vejle"),
                        ("PPRFLOW_USER", "system:test")):
        monkeypatch.setenv(name, value)
    with no_heartbeat():
        sign_in(client, world.LEADER)
        response = _submit(client, world.individual_form())
    assert response.status_code == 200 and "Vedhæftet henvendelsen: Handleplan 3.B.pdf" in response.text
    with get_client(sync_client=True) as prefect:
        runs = prefect.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["henvendelse-modtag-med-fil"])))
    with Session(web_ctx.engine) as session:
        assert session.exec(select(WebReferral)).all() == [], "opened, then deleted"
        cases = session.exec(select(Case)).all()
    assert len(runs) == 1 and runs[0].state is not None and runs[0].state.is_completed()
    assert set(runs[0].parameters) == {"upload_id", "request_id", "today"}, "the id, never the file"
    assert isinstance(runs[0].parameters["upload_id"], int)
    with Session(web_ctx.engine) as session:  # the acting user is the signed-in leader's request (PRIV-4)
        request = session.get(RunRequest, runs[0].parameters["request_id"])
    assert request is not None and request.actor == world.LEADER
    assert len(cases) == 1
