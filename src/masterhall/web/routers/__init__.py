"""The web app's routes, one module per area: ``masters`` (status, masters, the Finder),
``conversations`` (conversations and streamed messages), ``builder`` (user masters, test runs,
files, import and export), ``knowledge`` (a master's indexed files, Q&A pairs, look-ups),
``v1`` (the OpenAI-compatible API), ``pages`` and ``builder_pages``
(HTML), ``account`` (sign-in, own account, the admins' members page), ``health`` (``/healthz``,
``/readyz``, ``/metrics``).
Routes call the hall's services and raise typed errors; ``web/errors.py`` answers them."""

from . import account, builder, builder_pages, conversations, health, knowledge, masters, pages, v1

#: Every router, in the order the app includes them: a request is matched against the routes in
#: this order, so the busiest (messages, chat completions) come first and the pages last.
ROUTERS = (v1.router, conversations.router, masters.router, builder.router, knowledge.router, builder.public_router,
           account.api_router, health.router, pages.router, builder_pages.router, account.router)

__all__ = ["ROUTERS"]
