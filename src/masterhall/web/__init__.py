"""The web hall: FastAPI app factory (``app``), the hall per request (``deps``), routers per
area (``routers/``), one SSE helper (``sse``), typed errors → HTTP (``errors``), pages
(``templating``, ``templates/``, ``i18n`` with ``locales/*.json``), Markdown (``render``), and
the browser's ES modules and style sheets (``static/``)."""
