"""The dashboard's colours and Plotly template: one place decides what green, amber and red mean.

Green, amber and red carry one meaning everywhere: green = baik / on time, amber = cukup /
needs watching, red = perlu perhatian / late. Everything else stays calm greys and one blue,
so the three signal colours stand out on a phone in the sun.
"""

from __future__ import annotations

from typing import Final

import plotly.graph_objects as go
import plotly.io as pio

GREEN: Final = "#1a7f37"
AMBER: Final = "#b7791f"
RED: Final = "#c53030"
BLUE: Final = "#2b6cb0"  # neutral series (volume), never a judgement
GREY: Final = "#718096"
LIGHT_GREY: Final = "#e2e8f0"
TEXT: Final = "#1a202c"
MUTED_TEXT: Final = "#4a5568"
BACKGROUND: Final = "#ffffff"
CARD_BACKGROUND: Final = "#f7fafc"

# Soft backgrounds of the same three meanings, for badges and banners (text stays dark).
GREEN_SOFT: Final = "#e6f4ea"
AMBER_SOFT: Final = "#fdf3e1"
RED_SOFT: Final = "#fdecec"

GRADE_COLORS: Final = {"baik": GREEN, "cukup": AMBER, "perlu_perhatian": RED}
GRADE_SOFT_COLORS: Final = {"baik": GREEN_SOFT, "cukup": AMBER_SOFT, "perlu_perhatian": RED_SOFT}
GRADE_LABELS: Final = {"baik": "Baik", "cukup": "Cukup", "perlu_perhatian": "Perlu perhatian"}
NO_GRADE_LABEL: Final = "Data belum cukup"

ON_TIME_COLOR: Final = GREEN
LATE_COLOR: Final = RED

# A fixed, colour-blind-friendlier sequence for series that carry no judgement (OPDs, channels).
SERIES_COLORS: Final = (
    BLUE, "#805ad5", "#319795", "#d69e2e", "#4a5568", "#dd6b20", "#3182ce", "#38a169", "#e53e3e",
)

FONT_FAMILY: Final = (
    "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
)
TEMPLATE_NAME: Final = "lapor_calm"


def grade_color(grade: str | None) -> str:
    """The signal colour of a grade; grey when there is no grade (below min_volume)."""
    return GRADE_COLORS.get(grade or "", GREY)


def grade_label(grade: str | None) -> str:
    return GRADE_LABELS.get(grade or "", NO_GRADE_LABEL)


def delta_color(delta: float | None, higher_is_better: bool | None) -> str:
    """Green when a change is an improvement, red when it is a decline, grey when neutral."""
    if delta is None or delta != delta or delta == 0 or higher_is_better is None:
        return GREY
    improved = delta > 0 if higher_is_better else delta < 0
    return GREEN if improved else RED


def plotly_template() -> go.layout.Template:
    """A quiet template: white background, light grid, system font, signal colours reserved."""
    template = go.layout.Template()
    template.layout = go.Layout(
        font=dict(family=FONT_FAMILY, size=13, color=TEXT),
        paper_bgcolor=BACKGROUND,
        plot_bgcolor=BACKGROUND,
        colorway=list(SERIES_COLORS),
        margin=dict(l=8, r=8, t=36, b=8),
        xaxis=dict(gridcolor=LIGHT_GREY, zeroline=False, linecolor=LIGHT_GREY, fixedrange=True),
        yaxis=dict(gridcolor=LIGHT_GREY, zeroline=False, linecolor=LIGHT_GREY, fixedrange=True),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0, font=dict(size=12)),
        hoverlabel=dict(font=dict(family=FONT_FAMILY)),
        dragmode=False,
        separators=",.",  # Indonesian: decimal comma, thousands dot
    )
    return template


def register_plotly_template() -> str:
    """Register the template with Plotly once and return its name."""
    if TEMPLATE_NAME not in pio.templates:
        pio.templates[TEMPLATE_NAME] = plotly_template()
    return TEMPLATE_NAME
