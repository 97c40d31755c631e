"""pprflow's Danish web app (issue 18): FastAPI + Jinja2 server-rendered pages, HTMX, DKFDS styling.

`create_app(settings)` (pprflow.web.app) builds it; `pprflow web` serves it alone, `pprflow serve` next to
Prefect's dashboard. Every route declares its access kind (pprflow.web.security); every route that shows
case data asks the one access policy (tasks/access.py `authorize`, PRIV-3) and is audited (PRIV-1).
"""
