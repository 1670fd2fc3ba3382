"""The console's charts, drawn one way: counts on whole-number axes from zero, rates as percentages
within 0-100 %, dates as days (never millisecond ticks), titles in words, times in the reader's time
zone, and a sentence instead of a chart when there is too little data to show a trend."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

MIN_PERIODS = 2  # a trend needs at least two periods with data


def count_axis(values) -> dict:
    """A y axis for counts: from zero, whole numbers (one per tick while the counts are small)."""
    top = max([0, *[v for v in values if pd.notna(v)]])
    axis = {"rangemode": "tozero", "tickformat": ",d", "title": None}
    if top <= 6:
        axis.update(dtick=1, range=[0, max(top, 1) + 0.5])
    return axis


RATE_AXIS = {"range": [0, 1.02], "tickformat": ".0%", "title": None}


DAY_MS = 86_400_000


def date_axis(first, last) -> dict:
    """Ticks on whole days, weeks or months across the range shown, labelled as dates: never the
    hour or millisecond ticks an axis picks for itself when the data covers a day or two."""
    days = max((pd.Timestamp(last) - pd.Timestamp(first)).days, 1)
    dtick = DAY_MS if days <= 14 else 7 * DAY_MS if days <= 120 else "M1"
    return {"type": "date", "tickformat": "%-d %b", "dtick": dtick, "title": None,
            "range": [pd.Timestamp(first) - pd.Timedelta(hours=12), pd.Timestamp(last) + pd.Timedelta(hours=12)]}


def layout(fig: go.Figure, *, height: int = 300, **axes) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), legend_orientation="h",
                      legend_title_text="", **axes)
    return fig


def too_little(frame: pd.DataFrame, column: str = "period", *, what: str = "a trend") -> bool:
    """Say so, and draw nothing, when fewer than MIN_PERIODS periods have data."""
    periods = frame[column].nunique() if not frame.empty else 0
    if periods >= MIN_PERIODS:
        return False
    st.info(f"Too little data for {what}: " + ("nothing in this range." if periods == 0 else
                                              "only one period in this range has any. Widen the date range."),
            icon=":material/query_stats:")
    return True
