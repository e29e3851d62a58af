"""The dashboard as an ASGI app: `streamlit run serve.py` (same flags as dashboard.py).

Runs `dashboard.py` as `st.App` with what Streamlit's own configuration cannot give:
- every response carries X-Frame-Options: DENY and Content-Security-Policy:
  frame-ancestors 'none' (access/headers.py); behind nginx the proxy sends them too;
- the sign-in cookie is set by a route of the server, so it is HttpOnly (access/cookies.py).
"""

import streamlit as st
from starlette.middleware import Middleware

from access import cookies
from access.headers import SecurityHeaders

app = st.App("dashboard.py", routes=cookies.routes(), middleware=[Middleware(SecurityHeaders)])
