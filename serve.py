"""The dashboard with security headers: `streamlit run serve.py` (same flags as dashboard.py).

Runs `dashboard.py` as an ASGI app (`st.App`) whose responses carry X-Frame-Options: DENY and
Content-Security-Policy: frame-ancestors 'none' (access/headers.py), which Streamlit's own
configuration cannot send. Behind nginx the proxy sends them too (docs/deployment.md).
"""

import streamlit as st
from starlette.middleware import Middleware

from access.headers import SecurityHeaders

app = st.App("dashboard.py", middleware=[Middleware(SecurityHeaders)])
