"""Several hall processes on one database: what they share through Redis.

``bus.py`` (the Redis connection of a process, on redis-py's asyncio client, and the local stand-in
of a single-process hall), ``turns.py`` (which process runs which answer; Stop across processes),
``streams.py`` (live answers relayed through Redis streams, followed from any process),
``limits.py`` (sign-in limits counted across processes). Catalog changes are published by
:func:`masterhall.hall.build_hall` on the bus. Losing Redis degrades to what one process can do
alone, with a warning, never to errors (see ``bus.py``).
"""
