"""The `pprflow` command. Commands that touch no flow never import Prefect (it costs seconds)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from pprflow.cli import (
    audit,
    calendar,
    case,
    consent,
    db,
    demo,
    district,
    kv,
    meeting,
    outbox,
    profile,
    referral,
    retention,
    serve,
    staff,
    sweep,
    web,
)
from pprflow.cli.context import STATE
from pprflow.cli.locked import run_again_when_locked
from pprflow.cli.output import fail
from pprflow.models.errors import PprflowError

try:  # typer >= 0.20 vendors click as typer._click; older versions use click itself
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

app = typer.Typer(
    name="pprflow",
    help="pprflow: kommunens henvisningsforløb (PPR, KV, netværksmøder) med frister og mails til tiden.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _global(
    profile_name: Annotated[str | None, typer.Option(
        "--profile", help="Kommuneprofil: vejle, randers eller sti til en .toml-fil [PPRFLOW_PROFILE].")] = None,
    database_url: Annotated[str | None, typer.Option(
        "--db", help="Database-URL (standard: SQLite i PPRFLOW_HOME) [PPRFLOW_DATABASE_URL].")] = None,
    actor: Annotated[str | None, typer.Option(
        "--as", help="Hvem handler (e-mail); skrives i loggen [PPRFLOW_USER].")] = None,
) -> None:
    STATE.profile_name = profile_name
    STATE.database_url = database_url
    if actor is not None and "@" in actor:  # a person: the one address type (ESC-1), bare and case-folded;
        from pprflow.cli.params import parse_email  # a system account ("system:…") is kept as given (PRIV-1)

        actor = parse_email(actor, "--as")
    STATE.actor = actor


app.add_typer(db.app, name="db")
app.add_typer(profile.app, name="profile")
app.add_typer(calendar.app, name="calendar")
app.add_typer(outbox.app, name="outbox")
app.add_typer(meeting.app, name="meeting")
app.add_typer(case.app, name="case")
app.add_typer(consent.app, name="consent")
app.add_typer(referral.app, name="referral")
app.add_typer(district.app, name="district")
app.add_typer(kv.app, name="kv")
app.add_typer(audit.app, name="audit")
app.add_typer(retention.app, name="retention")
app.add_typer(staff.app, name="staff")
app.command("sweep")(sweep.sweep_command)
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.command("web")(web.web)


def main(argv: list[str] | None = None) -> None:
    """Entry point: every user mistake is one line on stderr and exit code 2, never a traceback."""
    try:
        run_again_when_locked(lambda: app(args=argv if argv is not None else sys.argv[1:], standalone_mode=False))
    except PprflowError as exc:
        from pprflow.models.messages import danish_line  # the Danish message catalogue (issue 18)

        fail(danish_line(exc), code=exc.exit_code)
    except click_exceptions.NoArgsIsHelpError:
        raise SystemExit(0) from None
    except click_exceptions.UsageError as exc:
        hint = f" (see: {exc.ctx.command_path} --help)" if exc.ctx else ""
        fail(f"{exc.format_message()}{hint}")
    except typer.Abort:
        fail("aborted", code=1)
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except click_exceptions.ClickException as exc:
        fail(exc.format_message(), code=exc.exit_code or 2)
    except OverflowError:  # a case id of 2**63, a date past 9999-12-31
        fail("a number or date is out of range: ids go up to 9223372036854775807 and dates up to 9999-12-31; "
             "check the arguments")
    except RecursionError:
        fail("the input is nested too deeply to read (JSON in depth): check the file")
    except UnicodeDecodeError:
        fail("the file is not UTF-8 text: save it as UTF-8 and try again")
    except OSError as exc:  # disk full, unreadable file: the environment, not a bug
        fail(f"{exc.strerror or exc}: {exc.filename or ''}".strip(": "), code=1)
    except ValueError as exc:  # after UnicodeDecodeError, its subclass
        if "null byte" not in str(exc):
            raise
        fail("an argument contains a NUL character (\\x00): retype it without control characters")
    except Exception as exc:
        from sqlalchemy.exc import DBAPIError  # imported late: `pprflow calendar` never loads SQLAlchemy

        if isinstance(exc, DBAPIError):  # the database is down, unreachable or refuses us: no SQL, no values
            from pprflow.db import database_error_line

            fail(database_error_line(exc), code=1)
        raise
