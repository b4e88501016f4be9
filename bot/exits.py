"""From a command's work to an exit code: errors become messages, secrets never reach the output.

Exit codes: 0 success, 1 a finding (invalid data, refused approval, drift, a failed step), 2 usage or
configuration. Shared by the command line and by whatever runs a command in process (the demo's world).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable

from rich.console import Console
from rich.text import Text

from bot.errors import EXIT_FINDING, EXIT_OK, BotError
from bot.redact import redacting_output

# Never printed, whatever prints: masked in stdout and stderr for the whole run.
SECRET_VARIABLES = ("GITHUB_TOKEN", "ZENODO_TOKEN", "ZENODO_SANDBOX_TOKEN")


def run_guarded(work: Callable[[], int | None]) -> int:
    """Run ``work`` with secrets masked; map its errors to messages and exit codes."""
    console = Console(stderr=True, highlight=False)
    secrets = [os.environ.get(name, "") for name in SECRET_VARIABLES]
    try:
        with redacting_output(secrets):
            code = work()
    except BotError as exc:
        # Messages may quote hostile input (file names, comments): never interpret them as markup.
        with redacting_output(secrets):
            console.print(Text("error: ", style="bold red") + Text(exc.message), soft_wrap=True)
            if exc.hint:
                console.print(f"  hint: {exc.hint}", markup=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        console.print("interrupted")
        return 130
    except Exception:  # a bug or an unexpected failure: show it, but never a token
        with redacting_output(secrets):
            sys.stderr.write(traceback.format_exc())
            console.print(Text("internal error: the run stopped unexpectedly; a rerun resumes where it stopped",
                               style="bold red"))
        return EXIT_FINDING
    return EXIT_OK if code is None else int(code)
