"""/review: pick a quarter, preview its review, download it as PDF, HTML or XLSX."""

from __future__ import annotations

import streamlit as st
from unitcost.analytics.period import Period
from unitcost.dashboard import queries, ui
from unitcost.dashboard.filters import period_choices
from unitcost.dashboard.review import build
from unitcost.dashboard.review.model import Metric, Review, Section

from unitcost.errors import UnitcostError

MIME = {
    "pdf": "application/pdf",
    "html": "text/html",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def section(s: Section) -> None:
    """One section of the review as the page draws it (the files hold the same content)."""
    if s.intro:
        st.write(s.intro)
    groups: dict[str, list[Metric]] = {}
    for m in s.metrics:
        groups.setdefault(m.group, []).append(m)
    for group, metrics in groups.items():
        st.markdown(f"**{group}**")
        for start in range(0, len(metrics), 3):
            for col, m in zip(st.columns(3), metrics[start : start + 3], strict=False):
                col.metric(m.label, m.value, help=m.definition)
                col.caption(f"{m.previous} ({m.change})")
    for c in s.charts:
        ui.chart(c.fig, c.data.df, f"review {c.data.sheet}", caption=c.caption)
    for t in s.tables:
        st.markdown(f"**{t.title}**")
        ui.table(t.df, f"review {t.sheet}")
        if t.caption:
            st.caption(t.caption)
    for n in s.notes:
        st.caption(n)


def preview(sk: queries.Key, period: Period, head: Review) -> None:
    """The review, one section at a time: building and drawing every chart and table at once
    is slow, so a section is read from the store when it is shown (the files hold them all)."""
    st.caption(f"{head.period_text} · compared with {head.previous_label}")
    if head.labels:
        st.warning("\n".join(f"- {label}" for label in head.labels))
    first = head.sections[0]
    titles = [first.title, *build.SECTIONS]
    title = st.radio("Section", titles, horizontal=True, key="review_section")
    section(first if title == first.title else queries.review_section(sk, period, title))


def main() -> None:
    st.title("Quarterly review")
    sk = queries.store_key()
    f = ui.filters()
    options = queries.filter_options(sk)
    default = queries.default_period_of(sk)
    quarters = [p for p in period_choices(options, default) if p.kind == "quarter"]
    if not quarters:
        ui.missing(*ui.NO_DATA)
        return
    labels = [q.label for q in quarters]
    start = labels.index(f.period.label) if f.period is not None and f.period.label in labels else 0
    label = st.selectbox("Quarter", labels, index=start, key="review_quarter")
    period = quarters[labels.index(label)]
    st.caption(
        f"The same files as `unitcost export review --quarter {period.label}`: quarter-over-"
        "quarter KPIs, trends, benchmark highlights, tier recommendations and data coverage."
    )
    try:
        review = queries.review_head(sk, period)
    except UnitcostError as exc:
        st.info(str(exc))
        return
    key = f"review_ready_{period.label}"
    if st.button("Prepare PDF, HTML and XLSX", key="review_prepare"):
        with st.spinner("Drawing the charts and laying out the PDF..."):
            queries.review_files(sk, period)
        st.session_state[key] = True
    if st.session_state.get(key):
        files = queries.review_files(sk, period)
        cols = st.columns(3)
        for col, fmt in zip(cols, ("pdf", "html", "xlsx"), strict=True):
            col.download_button(
                f"Download {fmt.upper()}",
                data=files[fmt],
                file_name=f"{review.file_stem}.{fmt}",
                mime=MIME[fmt],
                key=f"review_dl_{fmt}",
                on_click="ignore",
            )
    st.divider()
    preview(sk, period, review)


main()
