"""``python -m masterhall.cli …``: the command line, as the ``masterhall`` script runs it."""

from . import main

main()
