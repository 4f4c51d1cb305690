"""Shareable state: a page's settings kept in its URL's query parameters, and a "Copy link" that opens the same
state in another browser.

A page reads its parameters once, when a session opens it (a shared link, a reload), and writes its current state
back after every run, so the address bar is always a link to what is on screen. The owner token (`?session=`,
see `studio/state.py`) and the operator's `?admin=` stay in the page's own URL so that a reload keeps the right to
stop its runs, but never go into a share link: whoever opens a shared link is a new owner.
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

import streamlit as st

from . import state

PRIVATE = (state.OWNER_PARAM, state.ADMIN_PARAM)


def read_once(flag: str) -> dict[str, str] | None:
    """The URL's query parameters the first time this session runs the page (keyed by `flag`), else None."""
    if st.session_state.get(flag):
        return None
    st.session_state[flag] = True
    return {key: st.query_params.get(key, "") for key in st.query_params if key not in PRIVATE}


def write(params: dict[str, str]) -> None:
    """Put `params` into the page's URL (only what changed, so an unchanged state costs no browser update)."""
    for key, value in params.items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value


def link(params: dict[str, str], page: str) -> str:
    """An absolute URL of this page carrying `params` and nothing private. `page` ("Playground") is the path used
    when the browser's address is unknown (AppTest)."""
    base = st.context.url or f"/{page}"
    public = {key: value for key, value in params.items() if key not in PRIVATE}
    return f"{base.split('?')[0]}?{urlencode(public, safe=',|')}"


def copy_link(params: dict[str, str], page: str) -> str:
    """The "Copy link" box: the share URL in a code block, whose copy button puts it on the clipboard."""
    url = link(params, page)
    st.markdown("**Copy link**: opens this exact state in any browser (the button at the box's right copies it).")
    st.code(url, language=None, wrap_lines=True)
    st.caption("The link carries no session token: whoever opens it starts their own session.")
    return url


def sandbox_state(params: dict[str, str], uniform: list[float], lambdas: list[float]) -> dict[str, float]:
    """The Quantizer sandbox's widget values from a link (`lam`, and `b` as comma-separated boundaries): λ snapped
    to the nearest slider stop, each b_v clipped between its two levels; {} when the link carries neither."""
    values: dict[str, float] = {}
    try:
        if params.get("lam"):
            lam = float(params["lam"])
            values["quant-lambda"] = min(lambdas, key=lambda option: abs(math.log(option) - math.log(max(lam, 1e-9))))
        if params.get("b"):
            given = [float(part) for part in params["b"].split(",")]
            if len(given) == len(uniform):
                for v, (b, u) in enumerate(zip(given, uniform, strict=True)):
                    values[f"quant-b{v + 1}"] = round(float(min(max(b, u - 0.5), u + 0.5)), 2)
    except ValueError:
        return {}
    return values
