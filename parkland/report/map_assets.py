"""Inlined assets of the bureau map: Leaflet (from the installed ``xstatic-leaflet`` package) and the
page's own script and stylesheet (``report/templates/map.js``, ``map.css``).

Everything is read from installed files and inlined, so the written HTML makes no request: Leaflet's
stylesheet refers to its control images with ``url(images/…)``; those are replaced by ``data:`` URIs.
"""

from __future__ import annotations

import base64
import re
from functools import cache, lru_cache
from pathlib import Path

import xstatic.pkg.leaflet as _xleaflet

TEMPLATES = Path(__file__).with_name("templates")
LEAFLET_VERSION: str = _xleaflet.VERSION

_CSS_URL = re.compile(r"url\(\s*['\"]?(images/[A-Za-z0-9_.\-]+)['\"]?\s*\)")


def _data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@lru_cache(maxsize=1)
def leaflet_js() -> str:
    """Leaflet's minified script, with any ``</script`` guarded (there is none in 1.9, but be sure)."""
    js = (Path(_xleaflet.BASE_DIR) / "leaflet.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+", "", js)
    return js.replace("</script", "<\\/script")


@lru_cache(maxsize=1)
def leaflet_css() -> str:
    """Leaflet's stylesheet with its ``url(images/x.png)`` references replaced by data URIs."""
    base = Path(_xleaflet.BASE_DIR)
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def repl(m: re.Match[str]) -> str:
        path = base / m.group(1)
        if not path.is_file():  # pragma: no cover - the package ships them
            return "none"
        return f'url("{_data_uri(path, "image/png")}")'

    return _CSS_URL.sub(repl, css)


@cache
def template(name: str) -> str:
    """A file of ``report/templates`` (``map.js``, ``map.css``)."""
    return (TEMPLATES / name).read_text(encoding="utf-8")
