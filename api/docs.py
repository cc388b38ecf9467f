"""``/docs``: Swagger UI served from this service's own files, so it works offline.

The assets (``swagger-ui-bundle.js``, ``swagger-ui.css``; Swagger UI 5, which reads OpenAPI
3.1) ship inside the ``fastapi-offline`` package and are served from ``/docs/assets``. The
page has no inline script (its start-up script is ``/docs/init.js``), so the
Content-Security-Policy of ``/docs`` (:mod:`api.edge`) allows scripts from this origin only.
``persistAuthorization`` keeps the key entered with *Authorize* across reloads.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = Path(str(files("fastapi_offline") / "static"))

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - API documentation</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" href="/docs/assets/favicon.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI, openapi_url: str = "/openapi.json") -> None:
    app.mount("/docs/assets", StaticFiles(directory=ASSETS), name="docs-assets")
    init = (
        "window.ui = SwaggerUIBundle("
        + json.dumps(
            {
                "url": openapi_url,
                "dom_id": "#swagger-ui",
                "deepLinking": True,
                "persistAuthorization": True,
            }
        )
        + ");\n"
    )

    @app.get("/docs", include_in_schema=False)
    def docs_page() -> HTMLResponse:
        return HTMLResponse(_PAGE.format(title=app.title))

    @app.get("/docs/init.js", include_in_schema=False)
    def docs_init() -> Response:
        return Response(init, media_type="application/javascript")
