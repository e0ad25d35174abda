"""``masterhall bench``: run the speed benchmarks of a source checkout (the ``bench/`` package).

The benchmarks are not part of the installed package: they live next to ``src/`` in the
repository. This command finds that ``bench/`` folder (from the package's own location, or the
current directory) and runs ``python -m bench`` with the same arguments; from an installed wheel
it says where to get them.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import typer


def bench_root() -> Path | None:
    """The folder that holds ``bench/__main__.py`` (a source checkout), or ``None``."""
    candidates = [Path(__file__).resolve().parents[3], Path.cwd()]
    for root in candidates:
        if (root / "bench" / "__main__.py").is_file():
            return root
    return None


def bench_command(ctx: typer.Context) -> None:
    """Run the speed benchmarks (a source checkout's bench/); options as `python -m bench --help`."""
    root = bench_root()
    if root is None:
        typer.echo(
            "The benchmarks live in the bench/ folder of a MasterHall source checkout and are not installed "
            "with the package. Clone the repository, install it (pip install -e .) and run "
            "`masterhall bench` or `python -m bench` from there.",
            err=True,
        )
        raise typer.Exit(2)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    main = importlib.import_module("bench.__main__").main
    raise typer.Exit(main(list(ctx.args)))


def register(app: typer.Typer) -> None:
    """Add ``bench`` to the ``masterhall`` app (every argument is passed on to ``python -m bench``)."""
    app.command(
        "bench",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
        add_help_option=False,
    )(bench_command)
