"""Compute engines for ``assess``: the default single-machine pandas flow (``parkland.pipeline.assess``) and
the scale-out engine on dask.distributed (:mod:`parkland.engine.dask`, imported on demand because dask is an
optional dependency)."""

from __future__ import annotations

ENGINES = ("pandas", "dask")
